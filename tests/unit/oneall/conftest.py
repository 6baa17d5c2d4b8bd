"""Fixtures of the sandbox's tests: sandboxes served on loopback, each with its options."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from pipeline.oneall.sandbox import Sandbox, SandboxServer

from .sandbox_api import KEYS, OTHER_FACEBOOK, TOKENS, Api


@pytest.fixture
def serve() -> Iterator[Callable[..., Api]]:
    """Start a sandbox: ``serve(host=…, server_options={…}, **sandbox_options)``."""
    servers: list[SandboxServer] = []

    def start(host: str = "127.0.0.1", server_options: dict[str, Any] | None = None, **options: Any) -> Api:
        box = Sandbox(*KEYS, seed=11, **options)
        for network, token in TOKENS.items():
            box.add_identity(token, network, f"acme-{network}")
        box.add_identity(OTHER_FACEBOOK, "facebook", "someone-else")
        server = SandboxServer(box, host, **(server_options or {})).start()
        servers.append(server)
        return Api(box, server.url)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def api(serve: Callable[..., Api]) -> Api:
    """A sandbox with the default options."""
    return serve()
