"""A pull request cannot take over the CI log: no line the CLI prints can start a GitHub
workflow command, and CR, control and bidirectional characters never reach it raw,
whether they come from a manifest's text, a file name, an error or an answer."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import Result

from pipeline.oneall.sandbox import SandboxServer
from pipeline.report.safe import neutralise
from tests.helpers import Project

HOSTILE = [
    "::add-mask::PRIVATE",
    "::stop-commands::token",
    "  ::error file=x::forged",
    "ok ##[error]old style",
    "carriage\rreturn",
    "bidi \u202eevil\u202c text",
    "escape \x1b]0;title\x07 and \x1b[2J clear",
    "line\u2028separator",
]
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _lines_are_safe(result: Result, *, annotations: bool = False) -> None:
    text = result.stdout + (result.stderr if result.stderr_bytes is not None else "")
    assert "\r" not in text and not _BIDI.search(text) and "##[" not in text
    assert not re.search("\x1b(?!\\[[0-9;]*m)", text)
    for line in text.split("\n"):
        if line.lstrip().startswith("::"):
            # Only the CLI's own annotations, whose data is escaped: one line each.
            assert annotations and re.match(r"::error( file=[^:]*(,line=\d+,col=\d+)?)?::", line), line


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_hostile_text_in_a_manifest_never_starts_a_workflow_command(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str], fmt: str) -> None:
    for i, text in enumerate(HOSTILE):
        message = json.dumps(f"intro\n{text}\n{text}")  # a JSON string is a YAML double-quoted one
        project.manifest(f"posts/p{i}", "actions:\n  post:\n    type: linkedin.post\n"
                         f"    identity: acme-linkedin\n    message: {message}\n")
    result = project.run("plan", "--format", fmt, env=site_env)
    assert result.exit_code == 0, result.output
    _lines_are_safe(result)
    applied = project.run("apply", "--yes", env={**site_env, "GITHUB_ACTIONS": "true"})
    assert applied.exit_code == 0
    _lines_are_safe(applied)


def test_a_hostile_file_name_never_starts_a_workflow_command(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.write("content/posts/x\n::add-mask::y\u202e.yaml", "actions: {a: {type: nope}}\n")
    result = project.run("validate", env={**site_env, "GITHUB_ACTIONS": "true"})
    assert result.exit_code == 1
    _lines_are_safe(result, annotations=True)
    assert sandbox.sandbox.received == []


def test_a_hostile_key_in_an_error_message_never_starts_a_workflow_command(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/x", 'actions:\n  a:\n    type: twitter.post\n    identity: acme-twitter\n'
                     '    message: hi\n    "\\n::error::forged\\r\\u202e": 1\n')
    result = project.run("plan", env={**site_env, "GITHUB_ACTIONS": "true"})
    assert result.exit_code == 1 and "forged" in result.output
    _lines_are_safe(result, annotations=True)


@pytest.mark.parametrize("text", HOSTILE)
def test_what_oneall_answers_is_neutralised_like_everything_else(text: str) -> None:
    shown = neutralise(f"published posts/a/t: post_id={text} https://x.example/{text}\n{text}")
    for line in shown.split("\n"):
        assert not line.lstrip().startswith("::")
    assert "\r" not in shown and not _BIDI.search(shown) and "##[" not in shown


def test_json_stays_valid_json_with_the_same_values_after_neutralising() -> None:
    doc = {"message": "\u202e::error::x\r\n##[warning]"}
    assert json.loads(neutralise(json.dumps(doc, ensure_ascii=False))) == doc
