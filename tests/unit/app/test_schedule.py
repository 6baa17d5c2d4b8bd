"""Scheduling: a post due later waits, then goes out; its dependents wait with it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pipeline import app
from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import Project, post_bodies

MANIFEST = """
    actions:
      pic:
        type: twitter.picture
        identity: acme-twitter
        url: https://cdn.acme.example/p.png
      tweet:
        type: twitter.post
        identity: acme-twitter
        message: launch
        publish_at: {when}
        attachments: [{{ref: pic}}]
      now:
        type: twitter.post
        identity: acme-twitter
        message: right away
"""


def run_apply(project: Project, env: dict[str, str], now: datetime) -> app.Applied:
    loaded = app.load(project.root, env)
    return app.apply(loaded, confirm=lambda plan: True, now=now)


def kinds(project: Project, env: dict[str, str], now: datetime) -> dict[str, str]:
    return {c.address: c.kind for c in app.plan(app.load(project.root, env), now=now).changes}


def test_a_scheduled_post_waits_then_goes_out_with_its_picture(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/a", MANIFEST.format(when="2026-12-01T09:00:00+01:00"))
    before = datetime(2026, 12, 1, 7, 59, tzinfo=timezone.utc)
    assert kinds(project, site_env, before) == {"posts/a/pic": "wait", "posts/a/tweet": "wait",
                                                "posts/a/now": "create"}
    run_apply(project, site_env, before)
    assert [b["request"]["push"]["post"]["message"] for b in post_bodies(sandbox)] == ["right away"]
    after = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
    assert kinds(project, site_env, after) == {"posts/a/pic": "create", "posts/a/tweet": "create",
                                               "posts/a/now": "noop"}
    run_apply(project, site_env, after)
    assert len(post_bodies(sandbox)) == 3
    assert set(kinds(project, site_env, after).values()) == {"noop"}


def test_a_local_time_is_read_in_the_configured_timezone(project: Project) -> None:
    project.write("pipeline.yaml", (project.root / "pipeline.yaml").read_text() + "timezone: Europe/Paris\n")
    project.manifest("posts/a", MANIFEST.format(when="2026-12-01T09:00:00"))
    changes = {c.address: c for c in app.plan(app.load(project.root, {}),
                                               now=datetime(2026, 12, 1, 7, 59, tzinfo=timezone.utc)).changes}
    assert changes["posts/a/tweet"].publish_at == datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
    assert changes["posts/a/tweet"].kind == "wait"


@pytest.mark.parametrize(("when", "message"), [
    ("2026-12-01T09:00:00", "publish_at has no offset (e.g. +01:00) and pipeline.yaml sets no timezone"),
    ("2026-02-30T09:00:00+01:00", "'publish_at': Input should be a valid datetime"),
    ("next tuesday", "'publish_at': Input should be a valid datetime"),
])
def test_a_publish_at_that_is_not_a_real_time_is_an_error_at_its_line(
        project: Project, when: str, message: str) -> None:
    project.manifest("posts/a", MANIFEST.format(when=when))
    result = project.run("validate")
    assert result.exit_code == 1
    assert f"error: content/posts/a.yaml:10:17: {message}" in result.stderr, result.stderr


def test_plan_shows_when_a_post_waits(project: Project) -> None:
    project.manifest("posts/a", MANIFEST.format(when="2099-01-01T00:00:00+00:00"))
    result = project.run("plan")
    assert "@ posts/a/tweet" in result.output and "scheduled for 2099-01-01T00:00:00+00:00" in result.output
