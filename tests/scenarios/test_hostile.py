"""Hostile input: each a clear error at its line, no traceback, and nothing published."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import Project

TWEET_HEAD = "actions:\n  tweet:\n    type: twitter.post\n    identity: acme-twitter\n"

CASES = [
    pytest.param(
        "content/x.yaml",
        "vars:\n  a: &a [x, x, x, x, x, x, x, x, x]\n  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n" + TWEET_HEAD + "    message: hi\n",
        "content/x.yaml:2:6: YAML anchors and aliases are not allowed: write each value out",
        id="alias-bomb"),
    pytest.param(
        "content/x.yaml", TWEET_HEAD + "    message: " + "[" * 200 + "]" * 200 + "\n",
        "content/x.yaml:5:44: YAML nested too deeply (limit 32)",
        id="deep-nesting"),
    pytest.param(
        "content/x.yaml", TWEET_HEAD + "    message: hi\n" + "#" * (1024 * 1024 + 1) + "\n",
        f"content/x.yaml: file is {len(TWEET_HEAD) + 16 + 1024 * 1024 + 2} bytes, over the limit of 1048576",
        id="file-over-the-size-cap"),
    pytest.param(
        "content/x.yaml", (TWEET_HEAD + "    message: caf\xe9\n").encode("latin-1"),
        "content/x.yaml:5:17: file is not valid UTF-8",
        id="not-utf-8"),
    pytest.param(
        "content/x.yaml", TWEET_HEAD + "    message: \"{{ cycler.__init__.__globals__.os.system('id') }}\"\n",
        "content/x.yaml:5:14: refused by the template sandbox: access to attribute '__init__' of 'type' object is unsafe.",
        id="template-reaches-python-internals"),
    pytest.param(
        "content/x.yaml", TWEET_HEAD + "    message: \"{% for a in range(99999) %}{% for b in range(99999) %}"
        "{% endfor %}{% endfor %}\"\n",
        "content/x.yaml:5:14: template took longer than 2 s to render",
        id="template-loops-for-ever"),
    pytest.param(
        "content/x.yaml", TWEET_HEAD + "    message: \"{% for i in range(99999) %}{{ 'megabytes' }}{% endfor %}\"\n",
        "content/x.yaml:5:14: template output exceeds 65536 characters",
        id="template-renders-megabytes"),
    pytest.param(
        "content/x.yaml", TWEET_HEAD + "    message: \"{{ 'x' * 10 ** 8 }}\"\n",
        "content/x.yaml:5:14: refused by the template sandbox: repetition would exceed the output limit",
        id="template-builds-a-huge-string"),
    pytest.param(
        "content/x.yaml", TWEET_HEAD.replace("twitter.post", "twitter.picture") + "    file: ../pipeline.yaml\n",
        "content/x.yaml:5:11: file '../pipeline.yaml' leads out of content/",
        id="media-path-with-dotdot"),
    pytest.param(
        "content/x.yaml", TWEET_HEAD.replace("twitter.post", "twitter.picture") + "    file: /etc/hostname\n",
        "content/x.yaml:5:11: file '/etc/hostname' must be a path relative to content/",
        id="media-path-absolute"),
    pytest.param(
        "content/x.yaml", TWEET_HEAD.replace("twitter.post", "twitter.picture") + "    file: link.png\n",
        "content/x.yaml:5:11: file 'link.png' leads out of content/ (through a symlink)",
        id="media-path-through-a-symlink"),
    pytest.param(
        "pipeline.yaml", "site: sandbox\nidentities:\n  acme-twitter:\n    network: twitter\n    token: ../../etc/passwd\n",
        "pipeline.yaml:5:12: 'token' has an invalid form: '../../etc/passwd'",
        id="identity-token-not-a-uuid"),
    pytest.param(
        "content/x.yaml", TWEET_HEAD.replace("twitter.post", "twitter.picture") + "    url: file:///etc/passwd\n",
        "content/x.yaml:5:10: 'url' must be an absolute http(s) URL, got 'file:///etc/passwd'",
        id="url-not-http"),
    pytest.param(
        "pipeline.yaml", "site: sandbox\nidentities: {}\nsubmit_to: everyone\n",
        "pipeline.yaml:3:1: unknown field 'submit_to' for pipeline.yaml",
        id="pipeline-yaml-unknown-key"),
    pytest.param(
        "content/x.yaml", TWEET_HEAD + "    message: !!python/object/apply:os.system ['id']\n",
        "content/x.yaml:5:14: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed",
        id="yaml-python-tag"),
]


@pytest.mark.parametrize(("path", "content", "message"), CASES)
def test_hostile_input_is_refused_at_its_line_and_nothing_is_sent(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str], tmp_path: Path,
        path: str, content: str | bytes, message: str) -> None:
    project.manifest("posts/good", TWEET_HEAD.replace("tweet:", "fine:") + "    message: an innocent tweet\n")
    target = project.root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content)
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"\x89PNG\r\n\x1a\n")
    os.symlink(outside, project.root / "content/link.png")

    result = project.run("apply", "--yes", env=site_env)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line.removeprefix("error: ") for line in result.stderr.splitlines()]
    assert any(line.startswith(message) for line in errors), errors
    assert sandbox.sandbox.received == []
    assert not (project.root / "state").exists()
