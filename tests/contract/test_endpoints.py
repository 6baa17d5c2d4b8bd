"""All 20 endpoints: each publishes on the sandbox, each refuses a bad action at its line,
and each puts on the wire exactly what the API reference says.

``WIRE`` is written by hand from docs/oneall-api.md §4, independently of the catalogue,
so a mistake in the catalogue cannot hide behind itself.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from pipeline import catalog
from pipeline.report.schema import example_action
from pipeline.oneall.sandbox import SandboxServer
from pipeline.load.project import load_project
from tests.helpers import REPO, TOKENS, Project

# type -> (path after /push/identities/<token>/, body node path, every field the node may hold)
WIRE: dict[str, tuple[str, str, set[str]]] = {
    "facebook.post": ("facebook/post.json", "post", {"message", "link", "attachments"}),
    "facebook.picture": ("facebook/picture.json", "picture", {"url", "description", "create_post"}),
    "facebook.video": ("facebook/video.json", "video", {"url", "description", "create_post"}),
    "facebook.group.post": ("facebook/group/post.json", "group", {"id", "message", "link", "attachments"}),
    "facebook.group.picture": ("facebook/group/picture.json", "group", {"id", "url", "description"}),
    "facebook.group.video": ("facebook/group/video.json", "group", {"id", "url", "description"}),
    "facebook.page.post": ("facebook/page/post.json", "page", {"id", "message", "link", "attachments"}),
    "facebook.page.picture": ("facebook/page/picture.json", "page", {"id", "url", "description"}),
    "facebook.page.video": ("facebook/page/video.json", "page", {"id", "url", "description"}),
    "linkedin.post": ("linkedin/post.json", "post", {"message", "link", "title", "description", "picture"}),
    "linkedin.company.post": ("linkedin/company/post.json", "post",
                              {"company", "message", "link", "title", "description", "picture"}),
    "pinterest.pin": ("pinterest/board/{board_id}/pin.json", "pin", {"description", "picture", "link"}),
    "pinterest.board": ("pinterest/board.json", "board", {"name", "description"}),
    "twitter.post": ("twitter/post.json", "post", {"message", "location", "attachments"}),
    "twitter.picture": ("twitter/picture.json", "picture", {"url", "description"}),
    "twitter.video": ("twitter/video.json", "video", {"video_url", "callback_url"}),
    "youtube.video": ("youtube/video.json", "video",
                      {"video_url", "title", "description", "thumbnail_url", "callback_url"}),
    "youtube.playlist.video": ("youtube/playlist/{playlist_id}/video.json", "video", {"video_id"}),
    "youtube.playlist": ("youtube/playlist.json", "playlist", {"title", "description", "privacy_status", "default_language"}),
    "youtube.channel.section": ("youtube/channel/section.json", "channel.section",
                                {"type", "style", "title", "position", "playlists"}),
}
# type -> the result fields the reference table promises
RESULTS = {
    "facebook.post": {"post_id", "post_location"}, "facebook.picture": {"picture_id"},
    "facebook.video": {"video_id"}, "facebook.group.post": {"post_id", "post_location"},
    "facebook.group.picture": {"picture_id"}, "facebook.group.video": {"video_id"},
    "facebook.page.post": {"post_id", "post_location"}, "facebook.page.picture": {"picture_id"},
    "facebook.page.video": {"video_id"}, "linkedin.post": {"post_id", "post_location"},
    "linkedin.company.post": {"post_id", "post_location"}, "pinterest.pin": {"pin_id", "pin_location"},
    "pinterest.board": {"board_id", "board_location"}, "twitter.post": {"post_id", "post_location"},
    "twitter.picture": {"picture_id"}, "twitter.video": {"video_id"},
    "youtube.video": {"video_id", "video_location"}, "youtube.playlist.video": {"playlist_id", "video_id"},
    "youtube.playlist": {"playlist_id", "playlist_location"}, "youtube.channel.section": {"section_id"},
}


def test_the_catalogue_has_exactly_the_20_endpoints() -> None:
    assert {e.type for e in catalog.ENDPOINTS} == set(WIRE) and len(WIRE) == 20


def manifest_for(type_name: str) -> dict[str, Any]:
    """The example action of ``type_name`` and, before it, every action it references."""
    actions: dict[str, Any] = {}

    def add(name: str, t: str) -> None:
        action = example_action(catalog.BY_TYPE[t])
        for spec in catalog.BY_TYPE[t].fields:
            value = action.get(spec.name)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict) and "ref" in item:
                    add(item["ref"], spec.accepts[0])
        action["identity"] = next(n for n, (net, _) in TOKENS.items() if net == catalog.BY_TYPE[t].network)
        actions[name] = action

    add("subject", type_name)
    return {"actions": actions}


@pytest.mark.parametrize("type_name", sorted(WIRE))
def test_each_type_publishes_with_the_documented_wire_format(
        type_name: str, project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.write("content/t.yaml", json.dumps(manifest_for(type_name), indent=2))
    result = project.run("apply", "--yes", env=site_env)
    assert result.exit_code == 0, result.output

    path, node, fields = WIRE[type_name]
    token = TOKENS[next(n for n, (net, _) in TOKENS.items() if net == type_name.split(".")[0])][1]
    sent = [r for r in sandbox.sandbox.received if r.method == "POST"][-1]  # the subject is last
    state = json.loads((project.root / "state/state.json").read_text())["resources"]
    ids = {name: rec["result"] for name, rec in state.items()}
    expected_path = path.format(board_id=ids.get("t/board", {}).get("board_id"),
                                playlist_id=ids.get("t/playlist", {}).get("playlist_id"))
    assert sent.path == f"/push/identities/{token}/{expected_path}"
    assert list(sent.body) == ["request"] and list(sent.body["request"]) == ["push"]
    body = sent.body["request"]["push"]
    for name in node.split("."):  # a node path: channel -> section
        assert list(body) == [name]
        body = body[name]
    # The example fills every field the endpoint has, but a Facebook post's link: it
    # takes a link or attachments, not both (reference §4), and the example attaches.
    assert set(body) | ({"link"} if type_name.startswith("facebook.") and "post" in type_name else set()) \
        == fields

    record = state["t/subject"]
    assert record["status"] == "published" and record["type"] == type_name
    assert set(record["result"]) >= RESULTS[type_name]
    shown = json.loads(project.run("show", "--json", env=site_env).stdout)
    assert {r["address"] for r in shown["resources"]} == set(state)


def _invalid(type_name: str) -> tuple[str, str]:
    """An invalid action of ``type_name`` and the exact error it must give."""
    endpoint = catalog.BY_TYPE[type_name]
    action = example_action(endpoint)
    action["identity"] = next(n for n, (net, _) in TOKENS.items() if net == endpoint.network)
    required = [f.name for f in endpoint.fields if f.required and f.name != endpoint.primary_media]
    if required:
        del action[required[-1]]
        expected = f"content/t.yaml:2:3: missing required field {required[-1]!r} for {type_name}"
    else:  # nothing is required: an unknown field it is
        action["colour"] = "red"
        expected = f"content/t.yaml:{len(action) + 2}:5: unknown field 'colour' for {type_name}"
    lines = [f"    {key}: {json.dumps(value)}" for key, value in action.items()]
    return "actions:\n  bad:\n" + "\n".join(lines) + "\n", expected


@pytest.mark.parametrize("type_name", sorted(WIRE))
def test_each_type_refuses_an_invalid_action_at_its_line(type_name: str, project: Project) -> None:
    text, expected = _invalid(type_name)
    project.write("content/t.yaml", text)
    result = project.run("validate")
    assert result.exit_code == 1
    first = result.stderr.splitlines()[-1].removeprefix("error: ")
    assert first.startswith(expected), result.stderr


LIMITS = [
    ("twitter.post", "message: " + "x" * 141, "'message' is 141 characters after rendering"),
    ("twitter.post", 'message: hi\n    attachments: ["1", "2", "3", "4", "5"]', "'attachments' has 5 items"),
    ("youtube.playlist", "title: t\n    privacy_status: secret", "'privacy_status' must be 'public', 'private' or 'unlisted'"),
    ("facebook.post", "link: https://x.example", None),
    ("facebook.post", "attachments: []", "facebook.post needs at least one of: message, link"),
    ("youtube.video", "video_url: https://x.example/v.mp4", "missing required field 'title'"),
    ("linkedin.post", "picture: javascript:alert(1)", "'picture' must be an absolute http(s) URL, got 'javascript:alert(1)'"),
    ("twitter.video", "video_url: //cdn.example/v.mp4", "'video_url' must be an absolute http(s) URL"),
]


@pytest.mark.parametrize(("type_name", "fields", "expected"), LIMITS)
def test_limits_enumerations_and_urls_are_checked(type_name: str, fields: str, expected: str | None,
                                                  project: Project) -> None:
    identity = next(n for n, (net, _) in TOKENS.items() if net == type_name.split(".")[0])
    project.write("content/t.yaml", f"actions:\n  a:\n    type: {type_name}\n    identity: {identity}\n    {fields}\n")
    result = project.run("validate")
    if expected is None:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 1 and expected in result.stderr, result.stderr


def test_a_reference_must_point_at_an_action_whose_result_fits(project: Project) -> None:
    project.write("content/t.yaml", """
        actions:
          board:
            type: pinterest.board
            identity: acme-pinterest
            name: Boards
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: hi
            attachments: [{ref: board}]
    """)
    result = project.run("validate")
    assert result.exit_code == 1
    assert ("'attachments' of twitter.post cannot take the result of pinterest.board 't/board' "
            "(it takes: twitter.picture, twitter.video)") in result.stderr


def test_the_example_campaign_publishes_across_types_in_reference_order(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    shutil.rmtree(project.root / "content")
    shutil.copytree(REPO / "content", project.root / "content")
    shutil.copy(REPO / "pipeline.yaml", project.root / "pipeline.yaml")
    for name, identity in load_project(project.root).config.identities.items():
        sandbox.sandbox.add_identity(identity.token, identity.network, name)

    result = project.run("apply", "--yes", env=site_env)
    assert result.exit_code == 0, result.output
    assert {o["type"] for o in sandbox.sandbox.published()} == set(WIRE)
    order = [r.path.split("/", 4)[-1] for r in sandbox.sandbox.received if r.method == "POST"]
    state = json.loads((project.root / "state/state.json").read_text())["resources"]

    board_id = state["boards/rocket-moodboard/board"]["result"]["board_id"]
    pins = [i for i, p in enumerate(order) if p == f"pinterest/board/{board_id}/pin.json"]
    assert len(pins) == 3 and order.index("pinterest/board.json") < min(pins)

    playlist_id = state["channel/launch-series/playlist"]["result"]["playlist_id"]
    items = [i for i, p in enumerate(order) if p == f"youtube/playlist/{playlist_id}/video.json"]
    videos = [i for i, p in enumerate(order) if p == "youtube/video.json"]
    assert len(items) == 2 and max(videos) < min(items)
    film_id = state["channel/launch-series/film"]["result"]["video_id"]
    bodies = [r.body["request"]["push"] for r in sandbox.sandbox.received if r.method == "POST"]
    assert {"video": {"video_id": film_id}} in bodies

    hero = state["posts/2026-12-01-launch/hero"]["result"]["picture_id"]
    tweet = next(b["post"] for b in bodies if "post" in b and "Acme Rocket is out!" in b["post"].get("message", ""))
    assert hero in tweet["attachments"]
    photo = state["posts/2026-12-01-launch-facebook/founder-photo"]["result"]["picture_id"]
    assert any(b.get("post", {}).get("attachments") == [photo] for b in bodies)
    assert project.run("plan", "--detailed-exitcode", env=site_env).exit_code == 0
