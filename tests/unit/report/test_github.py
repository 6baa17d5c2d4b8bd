"""GitHub Actions integration: workflow-command escaping, annotations and the job summary."""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import Diagnostic, Location
from pipeline.report.github import error_command, escape_data, escape_property
from tests.helpers import Project


def test_escaping_follows_the_toolkit() -> None:
    assert escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert escape_property("dir:a,b%\n") == "dir%3Aa%2Cb%25%0A"


def test_error_command() -> None:
    d = Diagnostic("bad: 50%\nreally", Location("content/a,b:c.yaml", 3, 7), hint="fix it")
    assert error_command(d) == "::error file=content/a%2Cb%3Ac.yaml,line=3,col=7::bad: 50%25%0Areally (hint: fix it)"
    assert error_command(Diagnostic("no place")) == "::error::no place"


def test_errors_become_annotations_and_plans_go_to_the_summary(project: Project, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    project.manifest("posts/a", "actions:\n  t:\n    type: twitter.post\n    identity: acme-twitter\n    message: hi\n    colour: red\n")
    result = project.run("validate", env=env)
    assert result.exit_code == 1
    assert "::error file=content/posts/a.yaml,line=6,col=5::unknown field 'colour' for twitter.post" in result.stderr
    project.manifest("posts/a", "actions:\n  t:\n    type: twitter.post\n    identity: acme-twitter\n    message: hi\n")
    assert project.run("plan", env=env).exit_code == 0
    refused = project.run("apply", "--yes", env=env)  # a CI run never publishes to the sandbox by accident
    assert refused.exit_code == 1 and "does not publish to the embedded sandbox by accident" in refused.output
    assert project.run("apply", "--yes", "--sandbox", env=env).exit_code == 0
    text = summary.read_text()
    assert text.startswith("<!-- pipeline:plan -->\n### pipeline plan")
    assert "### pipeline apply\n\nApply: 1 published." in text
