"""The sandbox's WSGI application: routing, authentication, and the Push and Pull handlers.

Every request is recorded in ``received`` (for tests of the wire format), then, in
order: faults, authentication, the route from the catalogue, the identity, and the
handler. Handlers raise ``Refused`` for an error envelope and return result data.
"""

from __future__ import annotations

import base64
import hmac
import json
import random
import re
import secrets
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from pipeline import catalog
from pipeline.catalog import Endpoint, Kind
from pipeline.oneall.sandbox.checks import Refused, check_node, read_node, route
from pipeline.oneall.sandbox.ids import IdMinter
from pipeline.oneall.sandbox.store import Identity, Store

MAX_BODY_BYTES = 1024 * 1024
_TOKEN = r"(?P<token>[0-9a-fA-F-]{36})"
_OK = "Your request has been processed successfully"


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


class Sandbox:
    """The emulated API as a WSGI application."""

    def __init__(self, public_key: str, private_key: str, *, db_path: Path | None = None,
                 faults: Faults | None = None, seed: int | None = None) -> None:
        self.public_key = public_key
        self.private_key = private_key
        self.faults = faults or Faults()
        self.received: list[Received] = []
        self.store = Store(db_path)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests handled at once: concurrency, measured
        self._random = random.Random(seed)
        self._push_routes = [(route(e.path), e) for e in catalog.ENDPOINTS]
        self._pull_routes = [(route(e.pull), e) for e in catalog.ENDPOINTS if e.pull]

    # ------------------------------------------------------------ data

    @property
    def identities(self) -> dict[str, Identity]:
        return self.store.identities

    @property
    def objects(self) -> list[dict[str, Any]]:
        return self.store.objects

    def add_identity(self, token: str, network: str, name: str) -> None:
        """Make ``token`` a connected account of ``network`` (idempotent)."""
        with self._lock:
            self.store.add_identity(token, network, name)

    def published(self, type_name: str | None = None) -> list[dict[str, Any]]:
        """Every object published so far, oldest first."""
        with self._lock:
            return [dict(o) for o in self.objects if type_name in (None, o["type"])]

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
        try:
            code, info, data = 200, _OK, self._handle(method, path, query, raw, environ)
        except Refused as refused:
            code, info, data = refused.code, refused.info, None
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
                environ: dict[str, Any]) -> Any:
        if not self._authorised(environ.get("HTTP_AUTHORIZATION", "")):
            raise Refused(401, "Authentication failed: the API keys are missing or wrong")
        match = re.fullmatch(rf"/(?P<api>push|pull)/identities/{_TOKEN}/(?P<rest>.+)", path)
        if match is None:
            raise Refused(404, f"Unknown resource {path}")
        api, token, rest = match["api"], match["token"], match["rest"]
        routes = self._push_routes if api == "push" else self._pull_routes
        for pattern, endpoint in routes:
            found = pattern.fullmatch(rest)
            if found:
                break
        else:
            raise Refused(404, f"Unknown resource {path}")
        expected = "POST" if api == "push" else "GET"
        if method != expected:
            raise Refused(405, f"{path} takes {expected} requests")
        with self._lock:
            identity = self.identities.get(token)
            if identity is None:
                raise Refused(404, f"Unknown identity_token {token}")
            if identity.network != endpoint.network:
                raise Refused(403, f"The identity {token} is a {identity.network} account, not {endpoint.network}")
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

    def _push(self, endpoint: Endpoint, identity: Identity, params: dict[str, str], raw: bytes) -> Any:
        values = check_node(endpoint, read_node(raw, "push", endpoint.node), params)
        self._check_targets(endpoint, identity, values)
        data: dict[str, Any] = {"provider": endpoint.network, "object": endpoint.object}
        data.update(IdMinter(self._random, identity.token, identity.name).for_endpoint(endpoint, values))
        stored = {"type": endpoint.type, "token": identity.token, "date": formatdate(usegmt=True),
                  "fields": {endpoint.by_name[k].wire_name: v for k, v in values.items()}, "result": data}
        self.store.add_object(stored)
        return data

    def _check_targets(self, endpoint: Endpoint, identity: Identity, values: dict[str, Any]) -> None:
        """What the network itself refuses: unknown boards/playlists/media, duplicates."""
        for spec in endpoint.fields:
            if not spec.accepts or spec.name not in values:
                continue
            wanted = values[spec.name] if spec.kind is Kind.ID_LIST else [values[spec.name]]
            for value in wanted:
                if not self._exists(spec, value, identity if spec.same_identity else None):
                    what = "/".join(t.split(".")[-1] for t in spec.accepts)
                    raise Refused(404 if spec.in_path else 400, f"Unknown {what} {value!r} for {spec.name}")
        if endpoint.type == "twitter.post":
            for obj in self.objects:
                if (obj["type"] == "twitter.post" and obj["token"] == identity.token
                        and obj["fields"].get("message") == values.get("message")):
                    raise Refused(409, "Status is a duplicate: Twitter refused the tweet")

    def _exists(self, spec: catalog.Field, value: str, owner: Identity | None) -> bool:
        for obj in self.objects:
            if obj["type"] in spec.accepts and (owner is None or obj["token"] == owner.token):
                if obj["result"].get(catalog.BY_TYPE[obj["type"]].id_field) == value:
                    return True
        # Videos on YouTube may be anyone's: a literal id we never minted is accepted.
        return spec.name == "video_id"

    # ------------------------------------------------------------ Pull

    def _pull(self, endpoint: Endpoint, identity: Identity, params: dict[str, str],
              query: dict[str, list[str]]) -> Any:
        def first(name: str, default: str) -> str:
            return query.get(name, [default])[0]

        try:
            page = max(1, int(first("page", "1")))
            per_page = min(500, max(1, int(first("entries_per_page", "250"))))
        except ValueError:
            raise Refused(400, "page and entries_per_page must be numbers") from None
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
        return {
            "provider": endpoint.network, "object": endpoint.pull_collection, "entries": window,
            "pagination": {"current_page": page, "total_pages": max(1, -(-total // per_page)),
                           "entries_per_page": per_page, "total_entries": total,
                           "order_direction": direction},
        }


def _path_value(endpoint: Endpoint, obj: dict[str, Any], name: str) -> Any:
    return obj["fields"].get(endpoint.by_name[name].wire_name)


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


def new_keys() -> tuple[str, str]:
    """A fresh key pair for an embedded sandbox run."""
    return f"sandbox-{secrets.token_hex(8)}", secrets.token_hex(24)
