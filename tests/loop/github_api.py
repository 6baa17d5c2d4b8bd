"""A small GitHub REST API on loopback, for the loop test: the calls the workflows make
(pull requests, issue comments, a run's artifacts, workflows), recorded.

It is also the HTTP(S) proxy of every step, so that ``gh`` reaches it (as the host
``api.github.localhost``, which gh speaks plain HTTP to) and so that any attempt to reach
another host is refused and recorded: the test asserts there was none.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

BOT = "github-actions[bot]"
GH_HOST = "api.github.localhost"


@dataclass
class Call:
    method: str
    path: str
    body: Any


@dataclass
class Repository:
    """What the stand-in knows of the one repository it serves."""

    slug: str
    token: str
    artifacts: Path  # act's artifact server folder: <run id>/<name>/<name>.zip
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: list[dict[str, Any]] = field(default_factory=list)
    workflows: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    #: Requests for anything but this API (another host, CONNECT): there must be none.
    strays: list[str] = field(default_factory=list)

    def writes(self) -> list[Call]:
        return [c for c in self.calls if c.method not in ("GET", "HEAD")]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_CONNECT(self) -> None:
        self.server.repo.strays.append(f"CONNECT {self.path}")
        self._send(403, {"message": "the loop test reaches no other host"})

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def do_PUT(self) -> None:
        self._route("PUT")

    def _send(self, status: int, data: Any = None, raw: bytes | None = None) -> None:
        body = raw if raw is not None else (b"" if data is None else json.dumps(data).encode())
        self.send_response(status)
        self.send_header("Content-Type", "application/zip" if raw is not None else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _route(self, method: str) -> None:
        repo = self.server.repo
        url = urlsplit(self.path)
        if url.netloc and url.hostname != GH_HOST:  # a proxied request to another host
            repo.strays.append(f"{method} {self.path}")
            return self._send(403, {"message": "the loop test reaches no other host"})
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw.strip() else None
        path = url.path.removeprefix("/api/v3")
        with self.server.lock:
            repo.calls.append(Call(method, path, body))
            if self.headers.get("Authorization", "").split()[-1:] != [repo.token]:
                return self._send(401, {"message": "Bad credentials"})
            prefix = f"/repos/{repo.slug}/"
            if not path.startswith(prefix):
                return self._send(404, {"message": "Not Found"})
            status, data, zipped = self._answer(repo, method, path.removeprefix(prefix), body,
                                                parse_qs(url.query))
        self._send(status, data, zipped)

    def _answer(self, repo: Repository, method: str, path: str, body: Any,
                query: dict[str, list[str]]) -> tuple[int, Any, bytes | None]:
        if method == "GET" and (m := re.fullmatch(r"pulls/(\d+)", path)):
            pull = repo.pulls.get(int(m[1]))
            return (200, pull, None) if pull else (404, {"message": "Not Found"}, None)
        if m := re.fullmatch(r"issues/(\d+)/comments", path):
            if method == "POST":
                comment = {"id": 1000 + len(repo.comments), "issue_number": int(m[1]),
                           "user": {"login": BOT}, "body": body["body"]}
                repo.comments.append(comment)
                return 201, comment, None
            page, per_page = int(query.get("page", ["1"])[0]), int(query.get("per_page", ["30"])[0])
            mine = [c for c in repo.comments if c["issue_number"] == int(m[1])]
            return 200, mine[(page - 1) * per_page:page * per_page], None
        if method == "PATCH" and (m := re.fullmatch(r"issues/comments/(\d+)", path)):
            comment = next((c for c in repo.comments if c["id"] == int(m[1])), None)
            if comment is None:
                return 404, {"message": "Not Found"}, None
            comment["body"] = body["body"]
            return 200, comment, None
        if method == "GET" and (m := re.fullmatch(r"actions/runs/(\d+)/artifacts", path)):
            folder = repo.artifacts / m[1]
            names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
            wanted = query.get("name", [None])[0]
            listed = [{"id": int(m[1]) * 100 + i, "name": n, "archive_download_url":
                       f"{self.server.url}/repos/{repo.slug}/actions/artifacts/{m[1]}/{n}/zip"}
                      for i, n in enumerate(names) if wanted in (None, n)]
            return 200, {"total_count": len(listed), "artifacts": listed}, None
        if method == "GET" and (m := re.fullmatch(r"actions/artifacts/(\d+)/([^/]+)/zip", path)):
            archive = repo.artifacts / m[1] / m[2] / f"{m[2]}.zip"
            return (200, None, archive.read_bytes()) if archive.is_file() else (404, {"message": "Not Found"}, None)
        if method == "GET" and path == "actions/workflows":
            return 200, {"total_count": len(repo.workflows), "workflows": repo.workflows}, None
        if method == "PUT" and (m := re.fullmatch(r"actions/workflows/(\d+)/disable", path)):
            workflow = next((w for w in repo.workflows if w["id"] == int(m[1])), None)
            if workflow is None:
                return 404, {"message": "Not Found"}, None
            workflow["state"] = "disabled_manually"
            return 204, None, None
        return 404, {"message": f"the stand-in does not serve {method} {path}"}, None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, repo: Repository) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.repo = repo
        self.lock = threading.Lock()
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class GitHubApi:
    """The stand-in, serving on a free loopback port until ``close``."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._server = _Server(repo)
        self.url = self._server.url
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
