"""The embedded sandbox: an emulator of OneAll's Push and Pull APIs on loopback.

It is driven by the same catalogue as the client, so routes, body nodes, field names
and limits agree with oneall-push-api.md by construction; what it adds is what a
real network does: ids and locations in each network's style, 401/403/404/409
answers, and a memory of what was published (a JSON-lines file, so it survives
runs). Faults (latency, 429/500/503, "ghost" posts that are created but never
answered in time) make the failure modes testable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from pipeline import catalog
from pipeline.catalog import Endpoint, Kind
from pipeline.model.config import check_http_url

MAX_BODY_BYTES = 1024 * 1024
_TOKEN = r"(?P<token>[0-9a-fA-F-]{36})"


@dataclass
class Faults:
    """Misbehaviour on purpose, each a share of requests between 0 and 1."""

    latency: float = 0.0  # seconds added to every answer
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_503: float = 0.0
    ghost: float = 0.0  # publish, then answer only after ``ghost_delay``
    ghost_delay: float = 5.0
    retry_after: int = 1


@dataclass
class Received:
    """A request as the sandbox saw it, for tests of the wire format."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    content_type: str | None


@dataclass
class _Identity:
    token: str
    network: str
    name: str


class Sandbox:
    """The emulated API as a WSGI application."""

    def __init__(self, public_key: str, private_key: str, *, db_path: Path | None = None,
                 faults: Faults | None = None, seed: int | None = None) -> None:
        self.public_key = public_key
        self.private_key = private_key
        self.db_path = db_path
        self.faults = faults or Faults()
        self.received: list[Received] = []
        self.identities: dict[str, _Identity] = {}
        self.objects: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests handled at once: concurrency, measured
        self._random = random.Random(seed)
        self._push_routes = [(_route(e.path), e) for e in catalog.ENDPOINTS]
        self._pull_routes = [(_route(e.pull), e) for e in catalog.ENDPOINTS if e.pull]
        if db_path and db_path.exists():
            self._load(db_path)

    # ------------------------------------------------------------ data

    def add_identity(self, token: str, network: str, name: str) -> None:
        """Make ``token`` a connected account of ``network`` (idempotent)."""
        with self._lock:
            known = self.identities.get(token)
            if known and known.network == network:
                return
            self.identities[token] = _Identity(token, network, name)
            self._persist({"kind": "identity", "token": token, "network": network, "name": name})

    def published(self, type_name: str | None = None) -> list[dict[str, Any]]:
        """Every object published so far, oldest first."""
        with self._lock:
            return [dict(o) for o in self.objects if type_name in (None, o["type"])]

    def _load(self, path: Path) -> None:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash
            if item.pop("kind") == "identity":
                self.identities[item["token"]] = _Identity(**item)
            else:
                self.objects.append(item)

    def _persist(self, item: dict[str, Any]) -> None:
        if self.db_path is None:
            return
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.db_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(item, sort_keys=True) + "\n")

    # ------------------------------------------------------------ WSGI

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        query = parse_qs(environ.get("QUERY_STRING", ""))
        raw = _read_body(environ)
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with self._lock:
            self.received.append(Received(method, path, query, body, environ.get("CONTENT_TYPE")))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._respond(method, path, query, raw, environ, start_response)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _respond(self, method: str, path: str, query: dict[str, list[str]], raw: bytes,
                 environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        ghost = False
        if self.faults.latency:
            time.sleep(self.faults.latency)
        fault = self._fault()
        if fault:
            code, info = fault
            headers = [("Retry-After", str(self.faults.retry_after))] if code == 429 else []
            return _answer(start_response, path, code, info, None, headers)
        if method == "POST" and self.faults.ghost and self._random.random() < self.faults.ghost:
            ghost = True
        code, info, data = self._handle(method, path, query, raw, environ)
        if ghost and code < 400:
            time.sleep(self.faults.ghost_delay)
        return _answer(start_response, path, code, info, data)

    def _fault(self) -> tuple[int, str] | None:
        draw = self._random.random()
        for code, rate, info in ((429, self.faults.rate_429, "Too many requests"),
                                 (500, self.faults.rate_500, "Internal error"),
                                 (503, self.faults.rate_503, "Service overloaded")):
            if draw < rate:
                return code, info
            draw -= rate
        return None

    def _handle(self, method: str, path: str, query: dict[str, list[str]], raw: bytes,
                environ: dict[str, Any]) -> tuple[int, str, Any]:
        if not self._authorised(environ.get("HTTP_AUTHORIZATION", "")):
            return 401, "Authentication failed: the API keys are missing or wrong", None
        match = re.fullmatch(rf"/(?P<api>push|pull)/identities/{_TOKEN}/(?P<rest>.+)", path)
        if match is None:
            return 404, f"Unknown resource {path}", None
        api, token, rest = match["api"], match["token"], match["rest"]
        routes = self._push_routes if api == "push" else self._pull_routes
        for pattern, endpoint in routes:
            found = pattern.fullmatch(rest)
            if found:
                break
        else:
            return 404, f"Unknown resource {path}", None
        expected = "POST" if api == "push" else "GET"
        if method != expected:
            return 405, f"{path} takes {expected} requests", None
        with self._lock:
            identity = self.identities.get(token)
            if identity is None:
                return 404, f"Unknown identity_token {token}", None
            if identity.network != endpoint.network:
                return 403, f"The identity {token} is a {identity.network} account, not {endpoint.network}", None
            if api == "pull":
                return self._pull(endpoint, identity, found.groupdict(), query)
            return self._push(endpoint, identity, found.groupdict(), raw)

    def _authorised(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.public_key) & hmac.compare_digest(password, self.private_key)

    # ------------------------------------------------------------ Push

    def _push(self, endpoint: Endpoint, identity: _Identity, params: dict[str, str],
              raw: bytes) -> tuple[int, str, Any]:
        # OneAll reads the raw body as JSON whatever the Content-Type says [doc].
        try:
            body = json.loads(raw)
            node = body["request"]["push"]
            for name in endpoint.node:
                node = node[name]
        except (ValueError, KeyError, TypeError):
            return 400, f"The request body must be JSON holding request.push.{endpoint.node_name}", None
        if not isinstance(node, dict):
            return 400, f"request.push.{endpoint.node_name} must be an object", None
        values, problem = _check_node(endpoint, node, params)
        if problem:
            return 400, problem, None
        code, info = self._check_targets(endpoint, identity, values)
        if code:
            return code, info, None
        data = self._mint(endpoint, identity, values)
        stored = {"type": endpoint.type, "token": identity.token, "date": formatdate(usegmt=True),
                  "fields": {endpoint.by_name[k].wire_name: v for k, v in values.items()}, "result": data}
        self.objects.append(stored)
        self._persist({"kind": "object", **stored})
        return 200, "Your request has been processed successfully", data

    def _check_targets(self, endpoint: Endpoint, identity: _Identity,
                       values: dict[str, Any]) -> tuple[int, str]:
        """What the network itself refuses: unknown boards/playlists/media, duplicates."""
        for spec in endpoint.fields:
            if not spec.accepts or spec.name not in values:
                continue
            wanted = values[spec.name] if spec.kind is Kind.ID_LIST else [values[spec.name]]
            for value in wanted:
                if not self._exists(spec, value, identity if spec.same_identity else None):
                    what = "/".join(t.split(".")[-1] for t in spec.accepts)
                    code = 404 if spec.in_path else 400
                    return code, f"Unknown {what} {value!r} for {spec.name}"
        if endpoint.type == "twitter.post":
            for obj in self.objects:
                if (obj["type"] == "twitter.post" and obj["token"] == identity.token
                        and obj["fields"].get("message") == values.get("message")):
                    return 409, "Status is a duplicate: Twitter refused the tweet"
        return 0, ""

    def _exists(self, spec: catalog.Field, value: str, owner: _Identity | None) -> bool:
        for obj in self.objects:
            if obj["type"] in spec.accepts and (owner is None or obj["token"] == owner.token):
                if obj["result"].get(catalog.BY_TYPE[obj["type"]].id_field) == value:
                    return True
        # Videos on YouTube may be anyone's: a literal id we never minted is accepted.
        return spec.name == "video_id"

    def _mint(self, endpoint: Endpoint, identity: _Identity, values: dict[str, Any]) -> dict[str, Any]:
        ids = _IdMinter(self._random, identity)
        data: dict[str, Any] = {"provider": endpoint.network, "object": endpoint.object}
        data.update(ids.for_endpoint(endpoint, values))
        return data

    # ------------------------------------------------------------ Pull

    def _pull(self, endpoint: Endpoint, identity: _Identity, params: dict[str, str],
              query: dict[str, list[str]]) -> tuple[int, str, Any]:
        def first(name: str, default: str) -> str:
            return query.get(name, [default])[0]

        try:
            page = max(1, int(first("page", "1")))
            per_page = min(500, max(1, int(first("entries_per_page", "250"))))
        except ValueError:
            return 400, "page and entries_per_page must be numbers", None
        direction = first("order_direction", "desc")
        entries = []
        for obj in self.objects:
            if obj["type"] != endpoint.type or obj["token"] != identity.token:
                continue
            if any(str(_path_value(endpoint, obj, k)) != v for k, v in params.items()):
                continue
            entries.append({**obj["fields"], **{k: v for k, v in obj["result"].items()
                                               if k not in ("provider", "object")},
                            "date": obj["date"]})
        if direction != "asc":
            entries.reverse()  # newest first
        total = len(entries)
        window = entries[(page - 1) * per_page: page * per_page]
        return 200, "Your request has been processed successfully", {
            "provider": endpoint.network, "object": endpoint.pull_collection, "entries": window,
            "pagination": {"current_page": page, "total_pages": max(1, -(-total // per_page)),
                           "entries_per_page": per_page, "total_entries": total,
                           "order_direction": direction},
        }


def _path_value(endpoint: Endpoint, obj: dict[str, Any], name: str) -> Any:
    return obj["fields"].get(endpoint.by_name[name].wire_name)


def _route(template: str) -> re.Pattern[str]:
    pattern = re.escape(template)
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(pattern)


def _check_node(endpoint: Endpoint, node: dict[str, Any],
                params: dict[str, str]) -> tuple[dict[str, Any], str | None]:
    """The node's fields by manifest name, or why OneAll would answer 400."""
    by_wire = {f.wire_name: f for f in endpoint.fields if not f.in_path}
    values: dict[str, Any] = dict(params)
    for key, value in node.items():
        spec = by_wire.get(key)
        if spec is None:
            return values, f"Unknown field {endpoint.node_name}.{key}"
        problem = _check_value(spec, value)
        if problem:
            return values, f"Invalid {endpoint.node_name}.{key}: {problem}"
        values[spec.name] = value
    for spec in endpoint.fields:
        if spec.required and spec.name not in values:
            return values, f"Missing required field {endpoint.node_name}.{spec.wire_name}"
    for group in endpoint.one_of:
        if not any(values.get(name) for name in group):
            return values, f"One of {', '.join(group)} is required"
    return values, None


def _check_value(spec: catalog.Field, value: Any) -> str | None:
    if spec.kind is Kind.BOOL:
        return None if isinstance(value, bool) else "must be true or false"
    if spec.kind is Kind.INT:
        return None if isinstance(value, int) and not isinstance(value, bool) else "must be a whole number"
    if spec.kind is Kind.ID_LIST:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            return "must be a list of ids"
        if spec.max_items is not None and len(value) > spec.max_items:
            return f"at most {spec.max_items} allowed, got {len(value)}"
        return None
    if not isinstance(value, str) or (spec.kind is Kind.ID and not value):
        return "must be a string"
    if spec.max_length is not None and len(value) > spec.max_length:
        return f"at most {spec.max_length} characters allowed, got {len(value)}"
    if spec.kind is Kind.ENUM and value not in spec.choices:
        return f"must be one of {', '.join(spec.choices)}"
    if spec.kind is Kind.URL:
        try:
            check_http_url(value)
        except ValueError:
            return "must be an absolute http(s) URL"
    return None


class _IdMinter:
    """Ids and locations that look like each network's own."""

    def __init__(self, rng: random.Random, identity: _Identity) -> None:
        self.rng = rng
        self.identity = identity

    def digits(self, n: int) -> str:
        return str(self.rng.randint(1, 9)) + "".join(self.rng.choice(string.digits) for _ in range(n - 1))

    def chars(self, n: int) -> str:
        return "".join(self.rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(n))

    def account(self, n: int) -> str:
        """A stable numeric id of the connected account itself, derived from its token."""
        digest = hashlib.sha256(self.identity.token.encode()).hexdigest()
        return str(int(digest, 16))[:n]

    def snowflake(self) -> str:
        # Twitter's ids: milliseconds since its epoch, shifted, plus a sequence.
        return str(((int(time.time() * 1000) - 1288834974657) << 22) | self.rng.getrandbits(22))

    def for_endpoint(self, endpoint: Endpoint, values: dict[str, Any]) -> dict[str, str]:
        name, obj, network = self.identity.name, endpoint.object, endpoint.network
        if network == "twitter":
            new = self.snowflake()
            out = {f"{obj}_id": new}
            if obj == "post":
                out["post_location"] = f"https://twitter.com/{name}/status/{new}"
            return out
        if network == "facebook":
            owner = values.get("page") or values.get("group") or self.account(15)
            new = self.digits(16)
            if obj == "post":
                return {"post_id": f"{owner}_{new}",
                        "post_location": f"https://www.facebook.com/{owner}/posts/{new}"}
            out = {f"{obj}_id": new}
            if endpoint.type == "facebook.picture" and values.get("create_post", True):
                out["post_id"] = f"{owner}_{self.digits(16)}"
            return out
        if network == "linkedin":
            urn = f"urn:li:share:{self.digits(19)}"
            return {"post_id": urn, "post_location": f"https://www.linkedin.com/feed/update/{urn}/"}
        if network == "pinterest":
            new = self.digits(18)
            if obj == "board":
                slug = re.sub(r"[^a-z0-9]+", "-", str(values.get("name", "board")).lower()).strip("-")
                return {"board_id": new, "board_location": f"https://www.pinterest.com/{name}/{slug}/"}
            return {"pin_id": new, "pin_location": f"https://www.pinterest.com/pin/{new}/"}
        # YouTube
        if obj == "playlist":
            new = "PL" + self.chars(32)
            return {"playlist_id": new, "playlist_location": f"https://www.youtube.com/playlist?list={new}"}
        if obj == "section":
            channel = "UC" + base64.urlsafe_b64encode(
                hashlib.sha256(self.identity.token.encode()).digest()).decode()[:22]
            return {"section_id": f"{channel}.{self.chars(22)}"}
        if endpoint.type == "youtube.playlist.video":
            return {"playlist_id": str(values["playlist"]), "video_id": str(values["video_id"])}
        new = self.chars(11)
        return {"video_id": new, "video_location": f"https://www.youtube.com/watch?v={new}"}


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(min(length, MAX_BODY_BYTES)) if length > 0 else b""


def _answer(start_response: Callable[..., Any], resource: str, code: int, info: str, data: Any,
            headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    request = {"date": formatdate(localtime=True), "resource": resource,
               "status": {"flag": "success" if code < 400 else "error", "code": code, "info": info}}
    response: dict[str, Any] = {"request": request}
    if data is not None:
        response["result"] = {"data": data}
    payload = json.dumps({"response": response}).encode()
    reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
              404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
              429: "Too Many Requests", 500: "Internal Server Error",
              503: "Service Unavailable"}.get(code, "Error")
    start_response(f"{code} {reason}", [("Content-Type", "application/json"),
                                        ("Content-Length", str(len(payload))), *(headers or [])])
    return [payload]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


class SandboxServer:
    """The sandbox served on loopback in a background thread."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sandbox = sandbox
        self.httpd = make_server(host, port, sandbox, server_class=_ThreadingServer,
                                 handler_class=_QuietHandler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> "SandboxServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="oneall-sandbox",
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def new_keys() -> tuple[str, str]:
    """A fresh key pair for an embedded sandbox run."""
    return f"sandbox-{secrets.token_hex(8)}", secrets.token_hex(24)
