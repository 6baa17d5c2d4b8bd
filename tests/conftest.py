"""Shared fixtures: a real sandbox on a loopback port, real project folders in tmp_path."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner, Result

from pipeline.cli import cli
from pipeline.oneall.sandbox import Sandbox, SandboxServer

PUBLIC_KEY = "test-public-key"
PRIVATE_KEY = "PRIVATE-KEY-d6f1c0ffee-never-print-me"

TOKENS = {
    "acme-twitter": ("twitter", "923843ec-1749-4cc1-988f-d6963f3b1baa"),
    "acme-facebook": ("facebook", "1a2b3c4d-1749-4cc1-988f-d6963f3b1baa"),
    "acme-linkedin": ("linkedin", "2a2b3c4d-1749-4cc1-988f-d6963f3b1baa"),
    "acme-pinterest": ("pinterest", "3a2b3c4d-1749-4cc1-988f-d6963f3b1baa"),
    "acme-youtube": ("youtube", "4a2b3c4d-1749-4cc1-988f-d6963f3b1baa"),
    "other-twitter": ("twitter", "5a2b3c4d-1749-4cc1-988f-d6963f3b1baa"),
}

CONFIG = "site: sandbox\nidentities:\n" + "".join(
    f"  {name}:\n    network: {network}\n    token: {token}\n" for name, (network, token) in TOKENS.items()
) + "vars:\n  product: Acme Rocket\n  links: {shop: 'https://acme.example/shop'}\n"


#: A picture and the tweet that attaches it: the smallest launch, used across the tests.
LAUNCH = """
    actions:
      hero:
        type: twitter.picture
        identity: acme-twitter
        url: https://cdn.acme.example/rocket.png
      tweet:
        type: twitter.post
        identity: acme-twitter
        message: "{{ product }} is out! {{ links.shop }} {% include 'signature.j2' %}"
        attachments: [{ref: hero}]
"""


@pytest.fixture(autouse=True)
def _no_oneall_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their site explicitly; the developer's shell never leaks in."""
    for name in ("ONEALL_SUBDOMAIN", "ONEALL_API_BASE", "ONEALL_PUBLIC_KEY", "ONEALL_PRIVATE_KEY",
                 "ONEALL_TIMEOUT", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A sandbox serving on 127.0.0.1 on a free port, knowing every test identity."""
    box = Sandbox(PUBLIC_KEY, PRIVATE_KEY, seed=7)
    for name, (network, token) in TOKENS.items():
        box.add_identity(token, network, name)
    with SandboxServer(box) as server:
        yield server


@dataclass
class Project:
    """A content repository in tmp_path."""

    root: Path

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def manifest(self, name: str, text: str) -> Path:
        return self.write(f"content/{name}.yaml", text)

    def run(self, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        """The real CLI, in-process, from the project's folder."""
        return CliRunner().invoke(cli, ["--project", str(self.root), *args], env=env,
                                  input=input, catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project(tmp_path / "repo")
    p.write("pipeline.yaml", CONFIG)
    p.write("content/templates/signature.j2", "#{{ product | replace(' ', '') }}\n")
    return p


@pytest.fixture
def site_env(sandbox: SandboxServer) -> dict[str, str]:
    """Environment that points the pipeline at the fixture sandbox as a "real" site."""
    return {"ONEALL_API_BASE": sandbox.url, "ONEALL_PUBLIC_KEY": PUBLIC_KEY,
            "ONEALL_PRIVATE_KEY": PRIVATE_KEY}


def post_bodies(server: SandboxServer) -> list[Any]:
    return [r.body for r in server.sandbox.received if r.method == "POST"]
