"""A published project under attack: what every hostile scenario checks after a refused run.

A good post is published first, so there is a state to keep; then the attack is written
and ``apply --yes`` runs. ``Scene.refused`` checks the run exits 1 with each expected
diagnostic at its ``file:line:col``, no traceback, nothing sent, the state unchanged,
the private key nowhere (output or any file under the project), and nothing outside
the project touched.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import PRIVATE_KEY, Project

TWEET = "actions:\n  tweet:\n    type: twitter.post\n    identity: acme-twitter\n"
#: What a secret that leaked would look like, written where only a leak could show it.
OUTSIDE_SECRET = "OUTSIDE-d41d8cd98f-must-never-be-read"


_HEAD = 64 * 1024 * 1024


def _regular_files(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every regular file under ``root`` (symlinks not followed): size, mtime, digest."""
    found: dict[str, tuple[int, int, str]] = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode):
                with open(path, "rb") as fh:  # the first 64 MiB: past that, a test's sparse file
                    found[path] = (info.st_size, info.st_mtime_ns, hashlib.sha256(fh.read(_HEAD)).hexdigest())
    return found


@dataclass
class Scene:
    project: Project
    sandbox: SandboxServer
    env: dict[str, str]
    outside: Path
    state: bytes = b""
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.project.root

    def publish_baseline(self) -> None:
        self.project.manifest("posts/good", TWEET + "    message: an innocent tweet\n")
        result = self.project.run("apply", "--yes", env=self.env)
        assert result.exit_code == 0, result.output
        self.state = (self.root / "state/state.json").read_bytes()
        self.sandbox.sandbox.received.clear()

    def run(self, *, isolated: bool = False) -> tuple[int, str, str]:
        """``apply --yes``: in-process, or in a child process that must end within a minute
        (a read that blocks would hang the test run otherwise)."""
        env = {**self.env, **self.extra_env}
        if not isolated:
            result = self.project.run("apply", "--yes", env=env)
            return result.exit_code, result.stdout, result.stderr
        done = subprocess.run([sys.executable, "-m", "pipeline", "--project", str(self.root), "apply", "--yes"],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
                              env={"PATH": os.environ["PATH"], "HOME": str(self.root), **env})
        return done.returncode, done.stdout, done.stderr

    def refused(self, *expected: str, isolated: bool = False) -> str:
        """Run, and check everything a refusal must hold; the whole output."""
        before = _regular_files(self.outside)
        code, stdout, stderr = self.run(isolated=isolated)
        output = stdout + stderr
        assert code == 1, output
        assert "Traceback" not in output
        errors = [line.removeprefix("error: ") for line in stderr.splitlines()]
        for message in expected:
            assert any(line.startswith(message) for line in errors), (message, errors)
        assert self.sandbox.sandbox.received == []
        assert (self.root / "state/state.json").read_bytes() == self.state
        assert PRIVATE_KEY not in output and OUTSIDE_SECRET not in output
        for path in _regular_files(self.root):
            with open(path, "rb") as fh:
                assert PRIVATE_KEY.encode() not in fh.read(_HEAD), path
        assert _regular_files(self.outside) == before
        return output


def make_scene(project: Project, sandbox: SandboxServer, site_env: dict[str, str], tmp_path: Path) -> Scene:
    outside = tmp_path / "outside"
    (outside / "folder").mkdir(parents=True)
    (outside / "secret.yaml").write_text(TWEET + f"    message: {OUTSIDE_SECRET}\n")
    (outside / "secret.j2").write_text(OUTSIDE_SECRET)
    (outside / "folder/x.yaml").write_text(TWEET + f"    message: {OUTSIDE_SECRET}\n")
    (outside / "secret.png").write_bytes(b"\x89PNG\r\n\x1a\n" + OUTSIDE_SECRET.encode())
    config = (project.root / "pipeline.yaml").read_text()
    project.write("pipeline.yaml", config + "media_base_url: https://acme.example/media\n")
    scene = Scene(project, sandbox, site_env, outside)
    scene.publish_baseline()
    return scene
