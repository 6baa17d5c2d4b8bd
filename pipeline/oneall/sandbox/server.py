"""SandboxServer: the sandbox served over HTTP/1.1 on loopback, in a background thread.

Connections are kept alive between requests, as OneAll's own servers do, and closed
after ``idle_timeout`` seconds without a request, so that a client's pool meets
both a reused connection and one the server has closed. IPv6 loopback (``::1``)
works as well as 127.0.0.1.
"""

from __future__ import annotations

import io
import socket
import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from pipeline.oneall.sandbox.app import Sandbox
from pipeline.oneall.sandbox.wire import MAX_BODY_BYTES

#: Seconds an idle keep-alive connection stays open.
IDLE_TIMEOUT = 5.0


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    idle_timeout = IDLE_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        self.accepted = 0  # connections ever opened: a client that keeps its own open makes few
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
            self.accepted += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Close every open connection, idle or not, so that stopping is prompt."""
        with self.connections_lock:
            for connection in list(self.connections):
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _ThreadingServer6(_ThreadingServer):
    address_family = socket.AF_INET6


class _Handler(WSGIRequestHandler):
    """wsgiref's handler, with HTTP/1.1 keep-alive and an idle timeout."""

    protocol_version = "HTTP/1.1"
    server: _ThreadingServer

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.idle_timeout)
        # An error page of http.server's own still goes in pieces: without this, on a
        # kept-alive connection Nagle's algorithm and the client's delayed ACK add 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        if self.headers.get("Content-Type") is None:
            # wsgiref says text/plain; a test of the wire wants to see that none was sent.
            environ.pop("CONTENT_TYPE", None)
        return environ

    def handle(self) -> None:
        self.close_connection = True
        self._one()
        while not self.close_connection:
            self._one()

    def _one(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if self.raw_requestline in (b"\r\n", b"\n"):  # a stray end of line is ignored (RFC 9112 2.2)
                self.raw_requestline = self.rfile.readline(65537)
        except (TimeoutError, OSError):  # idle too long, or closed by stop()
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.requestline, self.request_version, self.command = "", "", ""
            self.send_error(414)
            return
        if not self.parse_request():  # an error was sent; parse_request chose whether to close
            return
        # A body the sandbox does not read whole would be taken for the next request.
        length = self.headers.get("Content-Length", "0")
        if self.headers.get("Transfer-Encoding") or not length.isdigit() or int(length) > MAX_BODY_BYTES:
            self.close_connection = True
        # wsgiref writes the status line, the headers and the body apart: gathered, the
        # answer leaves in one write (one segment, one wake-up of the client, not four).
        answer = io.BytesIO()
        handler = ServerHandler(self.rfile, answer, self.get_stderr(), self.get_environ(), multithread=True)
        handler.http_version = "1.1"
        handler.request_handler = self  # type: ignore[attr-defined] # wsgiref's back-pointer for logging
        app = self.server.get_app()
        assert app is not None
        handler.run(app)
        try:
            self.wfile.write(answer.getbuffer())
        except OSError:  # the client left (as wsgiref itself takes it when it writes)
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


class SandboxServer:
    """The sandbox served on loopback in a background thread."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0, *,
                 idle_timeout: float = IDLE_TIMEOUT) -> None:
        self.sandbox = sandbox
        server_class = _ThreadingServer6 if ":" in host else _ThreadingServer
        self.httpd = server_class((host, port), _Handler)
        self.httpd.idle_timeout = idle_timeout
        self.httpd.set_app(sandbox)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        host = str(host)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> "SandboxServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="oneall-sandbox",
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.close_connections()
        self.httpd.server_close()

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
