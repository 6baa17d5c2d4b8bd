"""The sandbox's HTTP server: kept-alive connections, closed when idle, IPv6 loopback."""

from __future__ import annotations

import socket
import time
from typing import Callable

import pytest
import requests

from pipeline.oneall.sandbox import Sandbox, SandboxServer

from .sandbox_api import KEYS, TOKENS, Api

TWEETS = f"/pull/identities/{TOKENS['twitter']}/twitter/tweets.json"


def get(connection: socket.socket, path: str, *, close: bool = False) -> bytes:
    """One GET on an open connection; the whole answer (it always has a Content-Length)."""
    headers = "Host: sandbox\r\n" + ("Connection: close\r\n" if close else "")
    connection.sendall(f"GET {path} HTTP/1.1\r\n{headers}\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        byte = connection.recv(1)
        assert byte, "the server closed the connection"
        head += byte
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    body = b""
    while len(body) < length:
        body += connection.recv(length - len(body))
    return head + body


def connect(api: Api) -> socket.socket:
    host, port = api.url.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host.strip("[]"), int(port)), timeout=5)


def test_a_connection_is_kept_alive_between_requests_and_closed_when_idle(serve: Callable[..., Api]) -> None:
    api = serve(server_options={"idle_timeout": 0.3})
    with connect(api) as connection:
        assert get(connection, TWEETS).startswith(b"HTTP/1.1 401")
        assert get(connection, TWEETS).startswith(b"HTTP/1.1 401")  # the same connection again
        started = time.monotonic()
        assert connection.recv(1) == b""  # closed by the server once idle
        assert 0.2 < time.monotonic() - started < 2


def test_a_client_asking_to_close_is_answered_then_closed(api: Api) -> None:
    with connect(api) as connection:
        assert get(connection, TWEETS, close=True).startswith(b"HTTP/1.1 401")
        assert connection.recv(1) == b""


def test_a_pooled_session_reuses_its_connection(api: Api) -> None:
    for n in range(3):
        api.push("twitter.post", {"message": f"tweet {n}"})
    ports = set()
    for _ in range(3):
        answer = api.session.get(api.url + TWEETS, timeout=5, stream=True)
        ports.add(answer.raw._connection.sock.getsockname()[1])  # type: ignore[union-attr]
        answer.content
    assert len(ports) == 1


def test_stopping_closes_connections_still_open(api: Api) -> None:
    box = Sandbox(*KEYS)
    server = SandboxServer(box, idle_timeout=30).start()
    with socket.create_connection(server.httpd.server_address[:2], timeout=5) as connection:
        get(connection, TWEETS)
        started = time.monotonic()
        server.stop()
        assert connection.recv(1) == b"" and time.monotonic() - started < 2


def test_no_content_type_is_recorded_as_none(api: Api) -> None:
    api.call("POST", f"/push/identities/{TOKENS['twitter']}/twitter/post.json",
             raw=b'{"request": {"push": {"post": {"message": "m"}}}}')
    assert api.box.received[-1].content_type is None


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
def test_the_sandbox_serves_on_the_ipv6_loopback(serve: Callable[..., Api]) -> None:
    api = serve(host="::1")
    assert api.url.startswith("http://[::1]:")
    api.push("twitter.post", {"message": "over IPv6"})
    assert requests.get(api.url + TWEETS, auth=KEYS, timeout=5).json()["response"]["result"]["data"]["tweets"]["count"] == 1
