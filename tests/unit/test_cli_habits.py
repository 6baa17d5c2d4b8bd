"""The habits of command-line tools: colour only when wanted, a usage error that never
reads as "changes pending", a declined prompt that exits 1, late posts held back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import Project, post_bodies

TWEET = "actions:\n  tweet:\n    type: twitter.post\n    identity: acme-twitter\n    message: hi\n"


def test_colour_is_off_with_no_color_or_the_flag(project: Project) -> None:
    project.manifest("posts/a", TWEET)
    runner = CliRunner()
    coloured = runner.invoke(cli, ["--project", str(project.root), "plan"], color=True)
    assert "\x1b[" in coloured.output
    for args, env in ((["--no-color"], {}), ([], {"NO_COLOR": "1"})):
        plain = runner.invoke(cli, [*args, "--project", str(project.root), "plan"], color=True, env=env)
        assert plain.exit_code == 0 and "\x1b[" not in plain.output, plain.output


def test_a_usage_error_exits_64_never_2(project: Project) -> None:
    for args in (["plan", "--no-such-option"], ["no-such-command"], ["plan", "--format", "xml"]):
        result = project.run(*args)
        assert result.exit_code == 64, (args, result.output)


def test_declining_the_prompt_exits_1_and_sends_nothing(project: Project, sandbox: SandboxServer,
                                                        site_env: dict[str, str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    project.manifest("posts/a", TWEET)
    terminal = SimpleNamespace(stdin=SimpleNamespace(isatty=lambda: True), stdout=SimpleNamespace(isatty=lambda: False))
    monkeypatch.setattr("pipeline.cli.publish.sys", terminal)  # a person at a terminal, answering n
    result = project.run("apply", env=site_env, input="n\n")
    assert result.exit_code == 1 and "Cancelled: nothing was sent." in result.output
    assert post_bodies(sandbox) == []


def _scheduled(project: Project, ago: timedelta) -> None:
    when = (datetime.now(timezone.utc) - ago).isoformat(timespec="seconds")
    project.manifest("posts/late", TWEET + f"    publish_at: '{when}'\n")


def test_a_post_scheduled_long_ago_is_overdue_and_not_published_unless_asked(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    _scheduled(project, timedelta(days=6))
    planned = project.run("plan", "--detailed-exitcode", env=site_env)
    assert planned.exit_code == 0 and "# posts/late/tweet" in planned.output and "1 overdue" in planned.output
    assert "--publish-overdue posts/late/tweet" in planned.output
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    assert post_bodies(sandbox) == []
    asked = project.run("apply", "--yes", "--publish-overdue", "posts/late/tweet", env=site_env)
    assert asked.exit_code == 0 and len(post_bodies(sandbox)) == 1


def test_a_post_a_little_late_is_published_and_late_after_is_configurable(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    _scheduled(project, timedelta(hours=1))
    assert "+ posts/late/tweet" in project.run("plan", env=site_env).output
    config = project.root / "pipeline.yaml"
    config.write_text(config.read_text() + "late_after: 600\n")
    assert "# posts/late/tweet" in project.run("plan", env=site_env).output
    assert project.run("plan", "--publish-overdue", "posts/nowhere/tweet", env=site_env).exit_code == 1


def test_forgetting_a_published_post_says_what_it_means_and_needs_yes(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/a", TWEET)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    refused = project.run("state", "forget", "posts/a/tweet", env=site_env)
    assert refused.exit_code == 1
    assert "once forgotten, the next apply publishes it again" in refused.output
    assert "nothing forgotten: confirm, or pass --yes" in refused.output
    assert "+ posts/a/tweet" not in project.run("plan", env=site_env).output  # still recorded
