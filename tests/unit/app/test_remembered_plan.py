"""A plan where nothing changed comes from the remembered summary, and only then."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pipeline import app
from pipeline.load.fingerprint import fingerprint
from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import Project

MANIFEST = """
    actions:
      now:
        type: twitter.post
        identity: acme-twitter
        message: right away
      later:
        type: twitter.post
        identity: acme-twitter
        message: later on
        publish_at: {when}
"""


def remembered(project: Project, env: dict[str, str], now: datetime) -> object:
    workspace = app.open_workspace(project.root, env)
    return app.remembered_plan(workspace, fingerprint(workspace.project), now)


def test_the_same_inputs_give_the_remembered_plan_and_the_same_output(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/a", MANIFEST.format(when="2099-01-01T00:00:00+00:00"))
    first = project.run("plan", env=site_env)
    assert remembered(project, site_env, datetime.now(timezone.utc)) is not None
    second = project.run("plan", env=site_env)
    assert second.output == first.output
    assert project.run("plan", "--detailed-exitcode", env=site_env).exit_code == 2
    assert project.run("plan", "--format", "markdown", env=site_env).exit_code == 0


@pytest.mark.parametrize("change", ["manifest", "template", "config", "state"])
def test_any_change_forgets_it(project: Project, sandbox: SandboxServer, site_env: dict[str, str],
                               change: str) -> None:
    project.manifest("posts/a", MANIFEST.format(when="2099-01-01T00:00:00+00:00"))
    assert project.run("plan", env=site_env).exit_code == 0
    now = datetime.now(timezone.utc)
    assert remembered(project, site_env, now) is not None
    if change == "manifest":
        project.manifest("posts/a", MANIFEST.format(when="2099-01-01T00:00:00+00:00").replace("away", "now"))
    elif change == "template":
        project.write("content/templates/signature.j2", "#changed\n")
    elif change == "config":
        project.write("pipeline.yaml", (project.root / "pipeline.yaml").read_text().replace("Acme Rocket", "Acme Jet"))
    else:
        assert project.run("apply", "--yes", env=site_env).exit_code == 0
    assert remembered(project, site_env, now) is None
    after = project.run("plan", env=site_env)
    assert ("1 unchanged" in after.output) == (change == "state")


def test_a_schedule_coming_due_forgets_it(project: Project, site_env: dict[str, str],
                                          sandbox: SandboxServer) -> None:
    when = datetime.now(timezone.utc) + timedelta(hours=1)
    project.manifest("posts/a", MANIFEST.format(when=when.isoformat()))
    assert project.run("plan", env=site_env).exit_code == 0
    assert remembered(project, site_env, when - timedelta(seconds=1)) is not None
    assert remembered(project, site_env, when) is None
