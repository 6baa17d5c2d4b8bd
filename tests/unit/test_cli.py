"""The CLI end to end in tmp_path, against the sandbox over loopback."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.catalog import BY_TYPE
from pipeline.oneall.client import Credentials, OneAllClient
from pipeline.oneall.sandbox import SandboxServer
from pipeline.apply.store import StateStore
from tests.helpers import LAUNCH, PRIVATE_KEY, TOKENS, Project, post_bodies




def state_of(project: Project) -> dict:
    return json.loads((project.root / "state" / "state.json").read_text())


def test_plan_apply_plan_then_a_second_apply_sends_nothing(project: Project, sandbox: SandboxServer,
                                                             site_env: dict[str, str]) -> None:
    project.manifest("posts/launch", LAUNCH)
    planned = project.run("plan", "--detailed-exitcode", env=site_env)
    assert planned.exit_code == 2, planned.output
    assert "Plan: 2 to create." in planned.output
    assert "posts/launch/hero (known after apply)" in planned.output
    assert post_bodies(sandbox) == []  # plan never calls the API

    applied = project.run("apply", "--yes", env=site_env)
    assert applied.exit_code == 0, applied.output
    assert "Apply: 2 published." in applied.output
    picture_id = sandbox.sandbox.published("twitter.picture")[0]["result"]["picture_id"]
    assert post_bodies(sandbox)[1] == {"request": {"push": {"post": {
        "message": "Acme Rocket is out! https://acme.example/shop #AcmeRocket",
        "attachments": [picture_id]}}}}

    resources = state_of(project)["resources"]
    assert resources["posts/launch/hero"]["result"] == {"picture_id": picture_id}
    assert resources["posts/launch/tweet"]["status"] == "published"
    assert resources["posts/launch/tweet"]["result"]["post_location"].startswith("https://twitter.com/")

    again = project.run("plan", "--detailed-exitcode", env=site_env)
    assert again.exit_code == 0, again.output
    assert "Plan: 2 unchanged." in again.output
    before = len(sandbox.sandbox.received)
    second = project.run("apply", "--yes", env=site_env)
    assert second.exit_code == 0
    assert len(sandbox.sandbox.received) == before
    assert "Nothing to publish now." in second.output


def test_wrong_keys_give_a_clear_error_and_nothing_in_the_state(project: Project, sandbox: SandboxServer,
                                                                  site_env: dict[str, str]) -> None:
    project.manifest("posts/launch", LAUNCH)
    env = {**site_env, "ONEALL_PRIVATE_KEY": "a-wrong-private-key"}
    result = project.run("apply", "--yes", env=env)
    assert result.exit_code == 1
    assert "failed    posts/launch/hero: 401 Authentication failed: the API keys are missing or wrong" in result.output
    assert "skipped   posts/launch/tweet" in result.output
    assert "a-wrong-private-key" not in result.output
    assert "Traceback" not in result.output
    assert state_of(project)["resources"] == {}
    assert sandbox.sandbox.published() == []
    assert len(post_bodies(sandbox)) == 1  # the first 401 stops the run


def test_apply_without_yes_off_a_terminal_publishes_nothing(project: Project, sandbox: SandboxServer,
                                                             site_env: dict[str, str]) -> None:
    project.manifest("posts/launch", LAUNCH)
    result = project.run("apply", env=site_env)
    assert result.exit_code == 1
    assert "stdin is not a terminal: pass --yes" in result.stderr
    assert sandbox.sandbox.received == []


def test_edited_post_is_changed_and_only_replace_publishes_it_anew(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    path = project.manifest("posts/launch", LAUNCH)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    path.write_text(path.read_text().replace("is out!", "has landed!"))
    planned = project.run("plan", "--detailed-exitcode", env=site_env)
    assert planned.exit_code == 0, planned.output
    assert "! posts/launch/tweet" in planned.output and "cannot edit" in planned.output
    sent = len(post_bodies(sandbox))
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    assert len(post_bodies(sandbox)) == sent

    replaced = project.run("apply", "--yes", "--replace", "posts/launch/tweet", env=site_env)
    assert replaced.exit_code == 0, replaced.output
    assert len(post_bodies(sandbox)) == sent + 1
    assert "has landed!" in post_bodies(sandbox)[-1]["request"]["push"]["post"]["message"]
    assert project.run("plan", "--detailed-exitcode", env=site_env).exit_code == 0


def test_removed_manifest_is_an_orphan_until_forgotten(project: Project, sandbox: SandboxServer,
                                                       site_env: dict[str, str]) -> None:
    path = project.manifest("posts/launch", LAUNCH)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    path.unlink()
    planned = project.run("plan", env=site_env)
    assert "2 orphaned" in planned.output and "o posts/launch/tweet" in planned.output
    forgot = project.run("state", "forget", "--yes", "posts/launch/tweet", "posts/launch/hero", env=site_env)
    assert forgot.exit_code == 0, forgot.output
    assert state_of(project)["resources"] == {}


def test_partial_failure_keeps_successes_and_the_next_apply_retries_only_the_rest(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/a", """
        actions:
          ok:
            type: twitter.post
            identity: acme-twitter
            message: this one goes out
          dup:
            type: twitter.post
            identity: acme-twitter
            message: already tweeted by hand
          pic:
            type: twitter.picture
            identity: acme-twitter
            url: https://cdn.acme.example/p.png
    """)
    # The same text was tweeted outside the pipeline: Twitter refuses a duplicate (409).
    OneAllClient(sandbox.url, Credentials("test-public-key", PRIVATE_KEY)).push(
        BY_TYPE["twitter.post"], TOKENS["acme-twitter"][1], {"message": "already tweeted by hand"})
    first = project.run("apply", "--yes", env=site_env)
    assert first.exit_code == 1
    assert "failed    posts/a/dup: 409 Status is a duplicate" in first.output
    assert "Apply: 2 published, 1 failed." in first.output
    assert set(state_of(project)["resources"]) == {"posts/a/ok", "posts/a/pic"}

    planned = project.run("plan", env=site_env)
    assert "Plan: 1 to create, 2 unchanged." in planned.output


def test_embedded_sandbox_is_announced_and_keeps_its_own_state(project: Project) -> None:
    project.manifest("posts/launch", LAUNCH)
    result = project.run("apply", "--yes")
    assert result.exit_code == 0, result.output
    assert "uses the embedded sandbox; nothing is published for real" in result.stderr
    assert not (project.root / "state").exists()
    sandbox_state = json.loads((project.root / ".pipeline/sandbox/state.json").read_text())
    assert sandbox_state["site"] == "sandbox" and len(sandbox_state["resources"]) == 2
    assert project.run("plan", "--detailed-exitcode").exit_code == 0
    shown = project.run("show", "--json")
    assert json.loads(shown.stdout)["format_version"] == 1


def test_a_real_site_never_falls_back_to_the_sandbox_and_plans_without_keys(project: Project) -> None:
    project.manifest("posts/launch", LAUNCH)
    planned = project.run("plan", env={"ONEALL_SUBDOMAIN": "acme"})
    assert planned.exit_code == 0, planned.output  # a pull request's plan has no secrets
    assert "sandbox" not in planned.output and "Plan: 2 to create." in planned.output
    applied = project.run("apply", "--yes", env={"ONEALL_SUBDOMAIN": "acme", "ONEALL_PUBLIC_KEY": "pub"})
    assert applied.exit_code == 1
    assert "ONEALL_PRIVATE_KEY is not set: publishing to acme needs both API keys" in applied.stderr
    assert "ONEALL_PUBLIC_KEY is not set" not in applied.stderr
    assert not (project.root / ".pipeline/sandbox").exists()


def test_a_bad_timeout_is_a_clear_error(project: Project) -> None:
    project.manifest("posts/launch", LAUNCH)
    for value in ("abc", "-1", "0", "inf", "nan"):
        result = project.run("plan", env={"ONEALL_TIMEOUT": value})
        assert result.exit_code == 1 and "ONEALL_TIMEOUT must be a number of seconds" in result.stderr


def test_a_running_apply_holds_the_lock_and_a_second_fails_naming_it(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/launch", LAUNCH)
    store = StateStore(project.root / "state/state.json", sandbox.url)
    with store.locked() as held:
        result = project.run("apply", "--yes", env=site_env)
        assert result.exit_code == 1
        assert f"lock {held.id} held by pid {held.pid} on {held.host} since {held.since}" in result.stderr
        refused = project.run("state", "unlock", held.id, env=site_env)
        assert refused.exit_code == 1 and "held by a running process" in refused.stderr
    assert sandbox.sandbox.received == []
    assert project.run("apply", "--yes", env=site_env).exit_code == 0


def test_a_lock_file_left_by_a_dead_run_does_not_block_and_can_be_removed(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/launch", LAUNCH)
    lock = project.root / "state" / "state.json.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"id": "L-123", "pid": 4242, "host": "ci-runner", "since": "2026-11-26T10:00:00+00:00"}))
    assert project.run("state", "unlock", "L-123", env=site_env).exit_code == 0
    assert not lock.exists()
    lock.write_text(json.dumps({"id": "L-456", "pid": 4242, "host": "ci-runner", "since": "2026-11-26T10:00:00+00:00"}))
    assert project.run("apply", "--yes", env=site_env).exit_code == 0  # nobody holds it: taken over
    assert not lock.exists()


def test_show_lists_ids_urls_and_times(project: Project, sandbox: SandboxServer,
                                       site_env: dict[str, str]) -> None:
    project.manifest("posts/launch", LAUNCH)
    project.run("apply", "--yes", env=site_env)
    text = project.run("show", env=site_env).output
    assert "posts/launch/tweet  twitter.post  published" in text
    assert "post_location: https://twitter.com/acme-twitter/status/" in text
    doc = json.loads(project.run("show", "--json", env=site_env).stdout)
    assert [r["address"] for r in doc["resources"]] == ["posts/launch/hero", "posts/launch/tweet"]
    assert all(r["published_at"] for r in doc["resources"])


def test_no_pipeline_yaml_is_a_clear_error(tmp_path: Path) -> None:
    project = Project(tmp_path)
    result = project.run("plan")
    assert result.exit_code == 1
    assert "no pipeline.yaml in" in result.stderr


def test_moving_a_manifest_never_posts_again(project: Project, sandbox: SandboxServer,
                                             site_env: dict[str, str]) -> None:
    old = project.manifest("posts/launch", LAUNCH)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    before = state_of(project)["resources"]
    new = project.root / "content/2026/12/launch.yaml"
    new.parent.mkdir(parents=True)
    old.rename(new)
    planned = project.run("plan", "--detailed-exitcode", env=site_env)
    assert planned.exit_code == 2
    assert "moved from posts/launch/tweet" in planned.output and "to create" not in planned.output
    sent = len(post_bodies(sandbox))
    applied = project.run("apply", "--yes", env=site_env)
    assert applied.exit_code == 0, applied.output
    assert "moved     posts/launch/hero -> 2026/12/launch/hero (nothing sent)" in applied.output
    assert len(post_bodies(sandbox)) == sent
    after = state_of(project)["resources"]
    assert after["2026/12/launch/tweet"] == before["posts/launch/tweet"]
    assert project.run("plan", "--detailed-exitcode", env=site_env).exit_code == 0


def test_state_mv_records_a_post_under_a_new_address(project: Project, sandbox: SandboxServer,
                                                     site_env: dict[str, str]) -> None:
    path = project.manifest("posts/launch", LAUNCH)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    # Renamed and reworded: no longer recognisably the same post, so it would be new...
    path.write_text(path.read_text().replace("tweet:", "announcement:").replace("is out!", "has landed!"))
    assert "1 to create" in project.run("plan", env=site_env).output
    # ...unless the author says it is the same one.
    result = project.run("state", "mv", "posts/launch/tweet", "posts/launch/announcement", env=site_env)
    assert result.exit_code == 0, result.output
    planned = project.run("plan", "--detailed-exitcode", env=site_env)
    assert planned.exit_code == 0 and "! posts/launch/announcement" in planned.output


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_elsewhere() -> None:
    from pipeline.apply.results import Event
    from pipeline.report.text import Progress

    ticks = iter([0.0, 1.0, 2.0, 6.0, 7.0])
    plain = Progress(3, tty=False, every=1.5, clock=lambda: next(ticks))
    shown = [plain.update(Event(f"a/{i}", o)) for i, o in enumerate(["published", "failed", "published"])]
    assert shown == [None, "progress: 2/3 done, 1 not done, 1.0 actions/s",
                     "progress: 3/3 done, 1 not done, 0.5 actions/s"]
    bar = Progress(4, tty=True, clock=iter([0.0, 2.0]).__next__)
    assert bar.update(Event("a/0", "published")) == "\r[######..................] 1/4 done, 0.5 actions/s"
    assert bar.update(Event("a/1", "started")) is None


def test_apply_off_a_terminal_prints_progress_lines(project: Project, sandbox: SandboxServer,
                                                    site_env: dict[str, str]) -> None:
    project.manifest("posts/launch", LAUNCH)
    result = project.run("apply", "--yes", env=site_env)
    assert "progress: 2/2 done" in result.output


def test_moving_a_folder_with_references_across_manifests_never_posts_again(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/launch", LAUNCH)
    project.manifest("posts/later", """
        actions:
          again:
            type: twitter.post
            identity: acme-twitter
            message: the same picture, later
            attachments: [{ref: posts/launch/hero}]
    """)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    (project.root / "content/posts").rename(project.root / "content/archive")
    later = project.root / "content/archive/later.yaml"
    later.write_text(later.read_text().replace("posts/launch/hero", "archive/launch/hero"))
    planned = project.run("plan", env=site_env)
    assert "to create" not in planned.output and "3 moved" in planned.output, planned.output
