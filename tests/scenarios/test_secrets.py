"""Secrets never appear in output, logs, the state, plan files or error messages."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import PUBLIC_KEY, TOKENS, Project

KEY = "S3CRET-PRIVATE-KEY-7f1e9d2c4b"
#: A secret configures and is never rendered: here, an identity's token read from the
#: environment (a secret in vars is refused: tests/scenarios/test_hostile_secrets.py).
CAMPAIGN = TOKENS["acme-twitter"][1]


def run(project: Project, env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "pipeline", "--project", str(project.root), *args],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            env={"PATH": os.environ["PATH"], "HOME": str(project.root), **env},
                            timeout=120)
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout + result.stderr


def test_the_private_key_and_secret_values_are_never_shown_or_written(
        project: Project, sandbox: SandboxServer, tmp_path: Path) -> None:
    # The private key the fixture sandbox accepts is another one: every push is refused (401).
    sandbox.sandbox.private_key = KEY
    project.write("pipeline.yaml", (project.root / "pipeline.yaml").read_text().replace(
        CAMPAIGN, "${secret:CAMPAIGN_TOKEN}"))
    project.manifest("posts/a", """
        actions:
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: "utm={{ product }}"
          bad:
            type: twitter.post
            identity: acme-twitter
            message: "{{ campaign.nope }}"
    """)
    env = {"ONEALL_API_BASE": sandbox.url, "ONEALL_PUBLIC_KEY": PUBLIC_KEY,
           "ONEALL_PRIVATE_KEY": KEY, "CAMPAIGN_TOKEN": CAMPAIGN}
    outputs = [run(project, env, "validate")]  # a template error
    (project.root / "content/posts/a.yaml").write_text(
        (project.root / "content/posts/a.yaml").read_text().replace("{{ campaign.nope }}", "second"))
    # Before anything is written: the key inside the base URL, to a port where nothing
    # listens (a transport error), in a copy of the project.
    copy = Project(tmp_path / "copy")
    shutil.copytree(project.root, copy.root)
    transport = run(copy, {**env, "ONEALL_API_BASE": f"http://{PUBLIC_KEY}:{KEY}@127.0.0.1:9"}, "apply", "--yes")
    assert "failed    posts/a/bad: cannot reach OneAll at http://test-public-key:***@127.0.0.1:9" in transport
    outputs.append(transport)
    outputs += [run(project, env, "plan"), run(project, env, "plan", "--format", "json"),
                run(project, env, "show"), run(project, env, "show", "--json")]

    # Wrong keys: 401 for every push, which quotes OneAll's info.
    outputs.append(run(project, {**env, "ONEALL_PRIVATE_KEY": "another-wrong-key-123"}, "apply", "--yes"))
    # A successful run, then a look at what was written.
    sandbox.sandbox.faults.ghost, sandbox.sandbox.faults.ghost_delay = 1.0, 1.0  # one unknown outcome
    outputs.append(run(project, {**env, "ONEALL_TIMEOUT": "0.3"}, "apply", "--yes"))
    outputs.append(run(project, env, "show", "--json"))

    text = "\n".join(outputs)
    assert "***" in text  # the key in the base URL was masked
    assert KEY not in text and CAMPAIGN not in text
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    written += list((Path(os.environ.get("TMPDIR", "/tmp")) / "pipeline-logs").glob("*.log"))
    assert any(p.name == "state.json" for p in written)
    for path in written:
        data = path.read_bytes()
        assert KEY.encode() not in data and CAMPAIGN.encode() not in data, path
