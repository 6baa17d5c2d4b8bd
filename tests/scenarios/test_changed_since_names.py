"""``--changed-since`` copes with any file name git can hold: quotes, spaces, backslashes
and non-ASCII are attributed to the change like any other name; a name that cannot be an
address (not UTF-8, or holding a control or invisible character) is an error at the file,
never a crash."""

from __future__ import annotations

import json
import os

from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import Project

NAMES = ['with "quotes" and spaces', "café-déjà", "back\\slash", "ünï:cödé"]
TWEET = "actions:\n  tweet:\n    type: twitter.post\n    identity: acme-twitter\n    message: {}\n"


def test_every_file_name_git_can_hold_is_attributed_to_the_change(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.git("init", "-q", "-b", "main")
    project.manifest("posts/old", TWEET.format("old"))
    project.git("add", "-A")
    project.git("commit", "-qm", "base")
    project.git("checkout", "-qb", "pr")
    for i, name in enumerate(NAMES):
        project.write(f"content/posts/{name}.yaml", TWEET.format(f"tweet {i}"))
    project.git("add", "-A")
    project.git("commit", "-qm", "odd names")
    result = project.run("plan", "--changed-since", "main", "--format", "json", env=site_env)
    assert result.exit_code == 0, result.output
    changes = json.loads(result.stdout)["changes"]
    assert sum(c["in_change"] for c in changes) == len(NAMES)
    assert [c["address"] for c in changes if not c["in_change"]] == ["posts/old/tweet"]


def test_a_file_name_that_is_not_utf8_is_an_error_at_the_file_not_a_crash(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.git("init", "-q", "-b", "main")
    project.manifest("posts/old", TWEET.format("old"))
    project.git("add", "-A")
    project.git("commit", "-qm", "base")
    raw = os.fsencode(str(project.root / "content" / "posts")) + b"/latin1-\xe9t\xe9.yaml"
    with open(raw, "w", encoding="utf-8") as fh:
        fh.write(TWEET.format("a name that is not UTF-8"))
    project.git("add", "-A")
    project.git("commit", "-qm", "odd name")
    for args in (["plan", "--changed-since", "HEAD~1"], ["validate"]):
        result = project.run(*args, env=site_env)
        assert result.exit_code == 1, result.output
        assert "content/posts/latin1-\\udce9t\\udce9.yaml: the name is not valid UTF-8" in result.output
    assert sandbox.sandbox.received == []


def test_a_file_name_with_a_control_or_invisible_character_is_an_error_at_the_file(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    for name in ("new\nline", "tab\there", "bidi\u202eevil"):
        project.write(f"content/posts/{name}.yaml", TWEET.format("x"))
    result = project.run("validate", env=site_env)
    assert result.exit_code == 1
    assert result.output.count("the name holds a control or invisible character") == 3
    assert "content/posts/new\\nline.yaml" in result.output

