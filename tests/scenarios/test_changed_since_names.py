"""``--changed-since`` copes with any file name git can hold: quotes, spaces, newlines,
non-ASCII and bytes that are not UTF-8 are attributed to the change like any other."""

from __future__ import annotations

import json
import os

from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import Project

NAMES = ['with "quotes" and spaces', "new\nline", "café-déjà", "tab\there", "back\\slash"]
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
