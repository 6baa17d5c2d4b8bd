"""A scripted stand-in for OneAll on a loopback port, written from the API reference alone.

Each request gets the next ``Reply`` of the script (the last one repeats), and is
recorded as it arrived. It answers as OneAll (§2's envelope, an HTTP ``Date``) or as
whatever stands in between: a gateway's HTML page, a redirect, a body cut short, a
body too large, a compressed body that unfolds past the cap.
"""

from __future__ import annotations

import gzip
import http.server
import json
import threading
import time
from dataclasses import dataclass, field
from email.utils import format_datetime
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pipeline.oneall.client import Credentials, OneAllClient, RetryPolicy
from tests.helpers import PRIVATE_KEY, PUBLIC_KEY

FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, max_total=10)


def envelope(code: int = 200, data: Any = None, *, flag: str | None = None,
             date: datetime | None = None, info: str = "") -> bytes:
    """OneAll's answer: ``response.request`` (date, status) and ``result.data`` if any."""
    request: dict[str, Any] = {"resource": "/x.json", "status": {
        "flag": flag or ("success" if code < 400 else "error"), "code": code,
        "info": info or ("Your request has been processed successfully" if code < 400 else "nope")}}
    if date is not None:
        request["date"] = format_datetime(date)
    response: dict[str, Any] = {"request": request}
    if data is not None:
        response["result"] = {"data": data}
    return json.dumps({"response": response}).encode()


GATEWAY_PAGE = b"<html><body><h1>502 Bad Gateway</h1>nginx</body></html>"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: The HTTP ``Date`` header; None: the real time, as any server sends.
    date: datetime | None = None
    #: Announce this Content-Length instead of the body's (a body cut short).
    length: int | None = None
    #: Stream this many filler bytes with no Content-Length, then close.
    stream: int = 0
    #: Send the body gzip-compressed (``Content-Encoding: gzip``).
    gzip: bool = False
    #: Seconds of silence between the headers and the body.
    hang: float = 0.0
    #: Seconds between the body's bytes, sent one at a time.
    trickle: float = 0.0


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    headers: dict[str, str]


class Loopback:
    """``with Loopback(Reply(...), ...) as stub:`` then ``stub.client()``."""

    def __init__(self, *script: Reply) -> None:
        self.script = list(script) or [Reply(200, envelope(200, {"ok": "yes"}))]
        self.received: list[Received] = []
        self.peers: set[tuple[str, int]] = set()
        self._lock = threading.Lock()
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            reply = Reply()

            def date_time_string(self, timestamp: float | None = None) -> str:
                if self.reply.date is not None:
                    return format_datetime(self.reply.date, usegmt=True)
                return super().date_time_string(timestamp)

            def handle_one(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(size) if size else b""
                url = urlsplit(self.path)
                with stub._lock:
                    stub.peers.add(self.client_address)
                    stub.received.append(Received(self.command, url.path, parse_qs(url.query),
                                                  body, dict(self.headers.items())))
                    self.reply = stub.script.pop(0) if len(stub.script) > 1 else stub.script[0]
                self.answer(self.reply)

            def answer(self, reply: Reply) -> None:
                payload = gzip.compress(reply.body) if reply.gzip else reply.body
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json" if reply.body[:1] == b"{"
                                 else "text/html")
                if reply.gzip:
                    self.send_header("Content-Encoding", "gzip")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.stream:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.close_connection = True
                    filler = b" " * 65536
                    try:
                        for _ in range(0, reply.stream, len(filler)):
                            self.wfile.write(filler)
                    except OSError:
                        pass  # the client stopped reading, as it should
                    return
                self.send_header("Content-Length", str(reply.length if reply.length is not None
                                                       else len(payload)))
                if reply.length is not None:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                try:
                    self.wfile.flush()
                    time.sleep(reply.hang)
                    if reply.trickle:
                        for i in range(len(payload)):
                            self.wfile.write(payload[i:i + 1])
                            self.wfile.flush()
                            time.sleep(reply.trickle)
                    else:
                        self.wfile.write(payload)
                except OSError:
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = handle_one  # noqa: N815 - the base's names

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Loopback:
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def client(self, **kw: Any) -> OneAllClient:
        kw.setdefault("retry", FAST_RETRY)
        return OneAllClient(self.url, Credentials(PUBLIC_KEY, PRIVATE_KEY), **kw)

    def methods(self) -> list[str]:
        return [r.method for r in self.received]


def now() -> datetime:
    return datetime.now(timezone.utc)

