"""What tests share besides fixtures: the test keys and identities, the project helper."""

from __future__ import annotations

import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from pipeline.cli import cli
from pipeline.oneall.sandbox import SandboxServer

#: The repository's root: its content/, pipeline.yaml, schemas/ and workflows.
REPO = Path(__file__).resolve().parents[1]

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

    def git(self, *args: str) -> str:
        """Real git in the project, as a committer with a name (a test machine may have none)."""
        return subprocess.run(["git", "-C", str(self.root), "-c", "user.name=Author",
                               "-c", "user.email=author@acme.example", *args],
                              check=True, capture_output=True, text=True).stdout

    def run(self, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        """The real CLI, in-process, from the project's folder."""
        return CliRunner().invoke(cli, ["--project", str(self.root), *args], env=env,
                                  input=input, catch_exceptions=False)


def post_bodies(server: SandboxServer) -> list[Any]:
    return [r.body for r in server.sandbox.received if r.method == "POST"]
