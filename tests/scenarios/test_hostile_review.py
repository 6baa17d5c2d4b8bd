"""What an outside review of the hardening found, each closed by design and tried here:
the plan and the apply cannot render differently, the keys go only where the owners say,
no line can pass for a workflow command through a Unicode space, and a hostile template
or number is an error at its line, never a crash."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline.oneall.sandbox import SandboxServer
from pipeline.report.safe import neutralise
from tests.helpers import PRIVATE_KEY, TOKENS, Project

TW = TOKENS["acme-twitter"][1]


def tweet(message: str) -> str:
    return f"actions:\n  t:\n    type: twitter.post\n    identity: acme-twitter\n    message: {json.dumps(message)}\n"


@pytest.mark.parametrize("setting", ["vars:\n  event: ${env:GITHUB_EVENT_NAME}\n",
                                     "media_base_url: https://${env:CDN_HOST}/media\n"])
def test_nothing_read_from_the_environment_can_reach_what_is_published(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str], setting: str) -> None:
    # The plan runs on the pull request, the apply on main: an environment that differs
    # between the two must not change what is published.
    config = project.root / "pipeline.yaml"
    text = config.read_text()
    config.write_text(text.replace("vars:\n", setting, 1) if setting.startswith("vars") else text + setting)
    project.manifest("posts/e", tweet("hi {{ event | default('') }}"))
    env = {**site_env, "GITHUB_EVENT_NAME": "push", "CDN_HOST": "cdn.acme.example"}
    result = project.run("apply", "--yes", env=env)
    assert result.exit_code == 1 and "cannot be used here" in result.output
    assert sandbox.sandbox.received == []


def test_the_environment_may_still_name_the_site_and_its_timeout(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    config = project.root / "pipeline.yaml"
    config.write_text(config.read_text() + "timeout: ${env:MY_TIMEOUT}\n")
    project.manifest("posts/e", tweet("hi"))
    assert project.run("plan", env={**site_env, "MY_TIMEOUT": "12"}).exit_code == 0


@pytest.mark.parametrize("template, why", [
    ("{{ ['Approved', 'EVIL']|random }}", "No filter named 'random'"),
    ("{{ cycler('a') }}", "a Cycler would print differently on every run"),
    ("x{{ 'a' ~ cycler('a') }}", "holds an object's address"),
    ("{{ cycler('a')|string }}", "holds an object's address"),
    ("{{ range }}", "a function would print differently"),
    ("{{ [1, 2]|map('string') }}", "a generator would print differently"),
])
def test_a_template_cannot_render_differently_in_the_plan_and_the_apply(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str], template: str, why: str) -> None:
    project.manifest("posts/r", tweet(template))
    result = project.run("plan", env=site_env)
    assert result.exit_code == 1 and why in result.output and "content/posts/r.yaml:5:" in result.output
    assert sandbox.sandbox.received == []


def test_the_keys_go_only_to_a_site_the_environment_names(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    config = project.root / "pipeline.yaml"
    config.write_text(config.read_text().replace("site: sandbox", "site: attacker"))
    project.manifest("posts/k", tweet("hi"))
    keys_only = {k: v for k, v in site_env.items() if k != "ONEALL_API_BASE"}
    result = project.run("apply", "--yes", env=keys_only)
    assert result.exit_code == 1 and "sent only to a site the environment names" in result.output
    mismatch = project.run("apply", "--yes", env={**keys_only, "ONEALL_SUBDOMAIN": "acme"})
    assert mismatch.exit_code == 1 and "names site 'attacker', but ONEALL_SUBDOMAIN is 'acme'" in mismatch.output
    assert project.run("plan").exit_code == 0  # a pull request's plan, without keys, still reads it


def test_the_private_key_can_never_be_an_identity_token(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    config = project.root / "pipeline.yaml"
    config.write_text(config.read_text().replace(TW, "${secret:ONEALL_PRIVATE_KEY}"))
    project.manifest("posts/k", tweet("hi"))
    result = project.run("apply", "--yes", env=site_env)
    assert result.exit_code == 1 and "the OneAll keys are for pipeline alone" in result.output
    assert sandbox.sandbox.received == [] and PRIVATE_KEY not in result.output


@pytest.mark.parametrize("space", ["\u00a0", "\u2003", "\u3000", "\u200b", "\ufeff"])
def test_no_unicode_space_lets_a_line_pass_for_a_workflow_command(space: str) -> None:
    text = neutralise(f"failed    posts/a: 409 x\n{space}::warning::forged\n{space}{space}::error::two")
    for line in text.split("\n")[1:]:
        # Guarded, or the invisible character shown as its escape: either way the runner
        # sees no "::" at the start of the line.
        assert line.startswith(("> ", "\\u"))


def test_an_answer_cannot_record_ids_of_its_choosing(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    from pipeline.apply.results import answer_ids as _ids
    from pipeline.catalog import BY_TYPE

    answer = {"provider": "twitter", "object": "post", "post_id": "1" * 5000, "evil": "::error::x"}
    assert _ids(BY_TYPE["twitter.post"], answer) == {"post_id": "1" * 2048}


@pytest.mark.parametrize("manifest, where, why", [
    (tweet("{% set c = cycler() %}x"), ":5:", "template failed: RuntimeError"),
    ("actions:\n  t:\n    type: twitter.post\n    identity: acme-twitter\n    message: hi\n"
     "    publish_at: " + "9" * 5000 + "\n", ":6:", "a number of 5000 digits"),
])
def test_a_hostile_template_or_number_is_an_error_at_its_line_not_a_crash(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str], manifest: str, where: str,
        why: str) -> None:
    project.write("content/posts/c.yaml", manifest)
    result = project.run("plan", env=site_env)
    assert result.exit_code == 1, result.output
    assert why in result.output and f"content/posts/c.yaml{where}" in result.output


def test_a_manifests_templates_share_one_budget(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.load import render

    monkeypatch.setattr(render, "MAX_RENDER_SECONDS", 0.4)
    monkeypatch.setattr(render, "MAX_FILE_SECONDS", 0.6)
    spin = "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}"
    actions = "".join(f"  t{i}:\n    type: twitter.post\n    identity: acme-twitter\n    message: \"{spin}\"\n"
                      for i in range(6))
    project.write("content/posts/slow.yaml", "actions:\n" + actions)
    result = project.run("validate", env=site_env)
    assert result.exit_code == 1
    assert "this manifest's templates took longer than 0.6 s in all" in result.output


def test_a_crash_log_is_never_written_through_a_symlink(project: Project, tmp_path: Path) -> None:
    import click

    from pipeline.cli.base import _crash_log

    outside = tmp_path / "outside"
    outside.mkdir()
    (project.root / ".pipeline").mkdir(exist_ok=True)
    os.symlink(outside, project.root / ".pipeline" / "logs")
    with click.Context(click.Command("x"), obj={"project": str(project.root)}) as ctx:
        try:
            raise RuntimeError("a bug")
        except RuntimeError:
            path = _crash_log(ctx)
    assert list(outside.iterdir()) == [] and path.exists() and outside not in path.parents


# ---------------------------------------------------------------- a second review's findings


@pytest.mark.parametrize("playlist", [".", ".."])
def test_a_dot_segment_id_is_an_error_at_its_line(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str], playlist: str) -> None:
    project.manifest("posts/v", "actions:\n  item:\n    type: youtube.playlist.video\n    identity: acme-youtube\n"
                     f"    playlist: \"{playlist}\"\n    video_id: abc\n")
    result = project.run("plan", env=site_env)
    assert result.exit_code == 1 and "not . or .." in result.output and "content/posts/v.yaml:5:15:" in result.output


def test_ids_that_cannot_stand_in_a_path_are_never_recorded_or_read() -> None:
    from pipeline.apply.results import answer_ids
    from pipeline.catalog import BY_TYPE, segment
    from pipeline.oneall.pull import parse_entry

    item = BY_TYPE["youtube.playlist.video"]
    assert answer_ids(item, {"playlist_id": "..", "video_id": "v1"}) == {"video_id": "v1"}
    assert parse_entry({"video_id": "..", "playlist_id": "p"}, item).id is None
    with pytest.raises(ValueError):
        segment("..")
    assert segment("a/b") == "a%2Fb"


def test_a_delete_goes_to_the_post_as_it_was_published_not_as_the_manifest_says_now(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    post = "actions:\n  p:\n    type: facebook.page.post\n    identity: acme-facebook\n    page: \"{page}\"\n" \
           "    message: hi\n{deleted}"
    project.manifest("posts/fb", post.format(page="1093847562", deleted=""))
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    project.manifest("posts/fb", post.format(page="999OTHER", deleted="    deleted: true\n"))
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    [delete] = [r for r in sandbox.sandbox.received if r.method == "DELETE"]
    assert "/facebook/page/1093847562/post/" in delete.path and "999OTHER" not in delete.path


def test_a_post_moved_to_another_account_is_changed_never_an_edit_through_the_new_one(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    config = project.root / "pipeline.yaml"
    config.write_text(config.read_text().replace("identities:\n", "identities:\n  brand2:\n    network: facebook\n"
                                                 "    token: 6a2b3c4d-1749-4cc1-988f-d6963f3b1baa\n", 1))
    post = "actions:\n  p:\n    type: facebook.page.post\n    identity: {who}\n    page: \"1093847562\"\n" \
           "    message: hi\n"
    project.manifest("posts/fb", post.format(who="acme-facebook"))
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    project.manifest("posts/fb", post.format(who="brand2"))
    planned = project.run("plan", env=site_env).output
    assert "1 changed" in planned and "OneAll cannot move a post to another account" in planned


def test_generated_manifests_never_share_a_name_nor_overwrite_one(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    from pipeline.app.harvest import _address, _Found
    from pipeline.catalog import BY_TYPE
    from pipeline.oneall.pull import parse_entry

    tweet = BY_TYPE["twitter.post"]
    names = {_address("imported", "acme", _Found(tweet, parse_entry({"post_id": i, "text": "x"}, tweet)))
             for i in ("a/b", "a-b", "a b", "ab")}
    assert len(names) == 4


def test_a_symlink_or_a_large_file_at_the_base_ref_neither_crashes_nor_costs_a_review(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/a", tweet("hi"))
    os.symlink("/etc/passwd", project.root / "content" / "leak.txt")
    os.symlink("../../../../../../etc", project.root / "content" / "up")
    (project.root / "big.bin").write_bytes(b"\0" * (8 * 1024 * 1024))  # outside content/: never exported
    project.git("init", "-q", "-b", "main")
    project.git("add", "-A")
    project.git("commit", "-qm", "base")
    for link in ("leak.txt", "up"):  # gone now: only the base ref holds them
        (project.root / "content" / link).unlink()
    project.manifest("posts/b", tweet("new"))
    result = project.run("plan", "--changed-since", "main", "--format", "json", env=site_env)
    assert result.exit_code == 0, result.output
    assert [c["address"] for c in json.loads(result.stdout)["changes"] if c["in_change"]] == ["posts/b/t"]


def test_the_guard_knows_every_unicode_space() -> None:
    from pipeline.report.safe import _BLANK

    assert {chr(c) for c in range(0x110000) if chr(c).isspace()} <= set(_BLANK)
