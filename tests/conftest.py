"""Shared fixtures: a real sandbox on a loopback port, real project folders in tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from pipeline.oneall.sandbox import Sandbox, SandboxServer
from tests.helpers import CONFIG, PRIVATE_KEY, PUBLIC_KEY, TOKENS, Project


@pytest.fixture(autouse=True)
def _own_cache_home(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The blob key (load/blobs.py) lives in the user's cache folder: the tests' own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


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
