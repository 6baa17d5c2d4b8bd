"""Editing and deleting what was published, against the sandbox's Update API: an edit is
one PUT, a delete one DELETE, a replaced tweet leaves exactly one live tweet, and after
each the plan has nothing left to do."""

from __future__ import annotations

import json

import pytest

from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import Project

PAGE = "1093847562"

EDITABLE = {
    "page": """
        actions:
          post:
            type: facebook.page.post
            identity: acme-facebook
            page: "{page}"
            message: "{text}"
    """,
    "pin": """
        actions:
          board:
            type: pinterest.board
            identity: acme-pinterest
            name: Rockets
          pin:
            type: pinterest.pin
            identity: acme-pinterest
            board: {{ref: board}}
            picture: https://cdn.acme.example/rocket.png
            description: "{text}"
    """,
    "playlist": """
        actions:
          playlist:
            type: youtube.playlist
            identity: acme-youtube
            title: "{text}"
            privacy_status: public
    """,
    "section": """
        actions:
          section:
            type: youtube.channel.section
            identity: acme-youtube
            section_type: singlePlaylist
            title: "{text}"
            position: 1
    """,
}


def _calls(sandbox: SandboxServer, method: str) -> int:
    return sum(1 for r in sandbox.sandbox.received if r.method == method)


def _settled(project: Project, env: dict[str, str]) -> None:
    planned = project.run("plan", "--detailed-exitcode", env=env)
    assert planned.exit_code == 0, planned.output


def test_editing_a_page_post_a_pin_a_playlist_and_a_section_is_one_put_each_and_no_post(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    for name, text in EDITABLE.items():
        project.manifest(f"edit/{name}", text.format(page=PAGE, text="Launch day"))
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    posts, puts = _calls(sandbox, "POST"), _calls(sandbox, "PUT")
    for name, text in EDITABLE.items():
        project.manifest(f"edit/{name}", text.format(page=PAGE, text="Launch day, updated"))
    planned = project.run("plan", env=site_env)
    assert "Plan: 4 to update" in planned.output and '"Launch day" -> "Launch day, updated"' in planned.output
    applied = project.run("apply", "--yes", env=site_env)
    assert applied.exit_code == 0, applied.output
    assert _calls(sandbox, "POST") == posts and _calls(sandbox, "PUT") == puts + 4
    live = {o["type"]: o["fields"] for o in sandbox.sandbox.published()}
    assert live["facebook.page.post"]["message"] == "Launch day, updated"
    assert live["pinterest.pin"]["description"] == "Launch day, updated"
    assert live["youtube.playlist"]["title"] == "Launch day, updated"
    assert live["youtube.channel.section"]["title"] == "Launch day, updated"
    _settled(project, site_env)


DELETABLE = """
    actions:
      tweet:
        type: twitter.post
        identity: acme-twitter
        message: Launch day
{deleted}
      page-post:
        type: facebook.page.post
        identity: acme-facebook
        page: "1093847562"
        message: Launch day
{deleted}
      board:
        type: pinterest.board
        identity: acme-pinterest
        name: Rockets
      pin:
        type: pinterest.pin
        identity: acme-pinterest
        board: {{ref: board}}
        picture: https://cdn.acme.example/rocket.png
{deleted}
      playlist:
        type: youtube.playlist
        identity: acme-youtube
        title: Launch
      video:
        type: youtube.video
        identity: acme-youtube
        video_url: https://cdn.acme.example/rocket.mp4
        title: Lift-off
      item:
        type: youtube.playlist.video
        identity: acme-youtube
        playlist: {{ref: playlist}}
        video_id: {{ref: video}}
{deleted}
"""


def test_tombstoned_tweet_page_post_pin_and_playlist_item_are_one_delete_each_and_never_come_back(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/gone", DELETABLE.format(deleted=""))
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    posts, deletes = _calls(sandbox, "POST"), _calls(sandbox, "DELETE")
    project.manifest("posts/gone", DELETABLE.format(deleted="        deleted: true"))
    assert "Plan: 4 to delete" in project.run("plan", env=site_env).output
    applied = project.run("apply", "--yes", env=site_env)
    assert applied.exit_code == 0, applied.output
    assert _calls(sandbox, "POST") == posts and _calls(sandbox, "DELETE") == deletes + 4
    live = {o["type"] for o in sandbox.sandbox.published()}
    assert live == {"pinterest.board", "youtube.playlist", "youtube.video"}
    state = json.loads((project.root / "state/state.json").read_text())["resources"]
    assert {a for a, r in state.items() if r["status"] == "deleted"} == {
        "posts/gone/tweet", "posts/gone/page-post", "posts/gone/pin", "posts/gone/item"}
    _settled(project, site_env)
    # Taking `deleted: true` away does not publish them again.
    project.manifest("posts/gone", DELETABLE.format(deleted=""))
    _settled(project, site_env)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    assert _calls(sandbox, "POST") == posts


def test_a_delete_answered_404_means_already_gone(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/t", DELETABLE.format(deleted="").split("      page-post:")[0])
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    post_id = json.loads((project.root / "state/state.json").read_text())["resources"]["posts/t/tweet"]["result"]["post_id"]
    sandbox.sandbox.delete_elsewhere(post_id, type_name="twitter.post")
    project.manifest("posts/t", DELETABLE.format(deleted="        deleted: true").split("      page-post:")[0])
    applied = project.run("apply", "--yes", env=site_env)
    assert applied.exit_code == 0 and "already gone (404)" in applied.output
    _settled(project, site_env)


def test_deleted_true_on_a_type_oneall_cannot_delete_is_an_error_at_its_line(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/l", """
        actions:
          post:
            type: linkedin.post
            identity: acme-linkedin
            message: hi
            deleted: true
    """)
    result = project.run("plan", env=site_env)
    assert result.exit_code == 1
    assert "content/posts/l.yaml:6:14: linkedin.post cannot be deleted" in result.output
    assert sandbox.sandbox.received == []


@pytest.mark.parametrize("saved", [False, True])
def test_replacing_a_tweet_leaves_exactly_one_live_tweet(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str], saved: bool) -> None:
    tweet = "actions:\n  tweet:\n    type: twitter.post\n    identity: acme-twitter\n    message: {}\n"
    project.write("content/posts/t.yaml", tweet.format("Launch day"))
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    project.write("content/posts/t.yaml", tweet.format("Launch day, take two"))
    changed = project.run("plan", env=site_env).output
    assert "! posts/t/tweet" in changed and "--replace posts/t/tweet" in changed
    if saved:
        assert project.run("plan", "--replace", "posts/t/tweet", "--out", str(project.root / "plan.json"),
                           env=site_env).exit_code == 0
        applied = project.run("apply", str(project.root / "plan.json"), env=site_env)
    else:
        applied = project.run("apply", "--yes", "--replace", "posts/t/tweet", env=site_env)
    assert applied.exit_code == 0, applied.output
    live = sandbox.sandbox.published("twitter.post")
    assert [o["fields"]["message"] for o in live] == ["Launch day, take two"]
    assert _calls(sandbox, "DELETE") == 1
    _settled(project, site_env)


def test_a_saved_plan_holds_its_update_and_delete_and_is_refused_once_stale(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    both = """
        actions:
          post:
            type: facebook.page.post
            identity: acme-facebook
            page: "1093847562"
            message: "{text}"
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: Launch day
{deleted}
    """
    project.manifest("posts/b", both.format(text="Launch day", deleted=""))
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    project.manifest("posts/b", both.format(text="Launch day!", deleted="            deleted: true"))
    assert project.run("plan", "--detailed-exitcode", env=site_env).exit_code == 2
    saved = project.root / "plan.json"
    assert project.run("plan", "--out", str(saved), env=site_env).exit_code == 0
    doc = json.loads(saved.read_text())
    kinds = {c["address"]: c["kind"] for c in doc["changes"]}
    assert kinds == {"posts/b/post": "update", "posts/b/tweet": "delete"}
    [update] = [c for c in doc["changes"] if c["kind"] == "update"]
    assert update["diff"] == [{"field": "message", "old": "Launch day", "new": "Launch day!"}]

    project.manifest("posts/b", both.format(text="Launch day!!", deleted="            deleted: true"))
    stale = project.run("apply", str(saved), env=site_env)
    assert stale.exit_code == 1 and "changed since the plan was made" in stale.output
    assert not any(r.method in ("PUT", "DELETE") for r in sandbox.sandbox.received)

    project.manifest("posts/b", both.format(text="Launch day!", deleted="            deleted: true"))
    applied = project.run("apply", str(saved), env=site_env)
    assert applied.exit_code == 0, applied.output
    assert _calls(sandbox, "PUT") == 1 and _calls(sandbox, "DELETE") == 1
    _settled(project, site_env)


def test_an_edit_whose_answer_was_lost_is_simply_sent_again(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("edit/page", EDITABLE["page"].format(page=PAGE, text="one"))
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    project.manifest("edit/page", EDITABLE["page"].format(page=PAGE, text="two"))
    faults = sandbox.sandbox.faults
    faults.gateway_502 = 1.0  # carried out, then a proxy's page instead of the answer
    lost = project.run("apply", "--yes", env=site_env)
    assert lost.exit_code == 1 and "safe to send again" in lost.output
    faults.gateway_502 = 0.0
    assert "1 to update" in project.run("plan", env=site_env).output  # still pending, not unknown
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    assert _calls(sandbox, "PUT") == 2 and _calls(sandbox, "POST") == 1
    _settled(project, site_env)
