"""The sandbox's WSGI application: routing, authentication, and the Push, Update and Pull handlers.

Every request is recorded in ``received`` (for tests of the wire format), then, in
order: the faults that refuse before acting (429, 500, 503), authentication, the route
from the catalogue, the identity, and the handler; then the faults that come after
acting (a ghost answers late, a gateway answers 502 in HTML). The answer leaves no
sooner than the latency after the request came. Handlers raise ``SandboxRefusal`` for
an error envelope and return result data.
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
from typing import Any, Iterable, Mapping
from urllib.parse import parse_qs

from pipeline import catalog
from pipeline.catalog import Endpoint
from pipeline.errors import SandboxRefusal
from pipeline.oneall.sandbox.checks import check_node, check_one_of, check_targets, read_node, route
from pipeline.oneall.sandbox.faults import Faults, draw
from pipeline.oneall.sandbox.ids import IdMinter, rewrite_tweet
from pipeline.oneall.sandbox.listing import ENTRY_NAMES, PULL_SHAPES, EntryNames, PullShape, pull_page
from pipeline.oneall.sandbox.store import Identity, Store
from pipeline.oneall.sandbox.wire import StartResponse, answer, gateway_page, read_body

_PATH = re.compile(r"/(?P<api>push|update|pull)/identities/(?P<token>[0-9a-fA-F-]{36})/(?P<rest>.+)")
_OK = "Your request has been processed successfully"
#: Older PHP SDKs pin through this path, the board in the body, with their own field
#: names [doc, docs/oneall-api.md §8; the catalogue has no entry for it].
_LEGACY_PIN_PATH = "pinterest/pin.json"
_LEGACY_PIN_FIELDS = {"note": "description", "image_url": "picture"}


@dataclass
class Received:
    """A request as the sandbox saw it, for tests of the wire format."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    content_type: str | None


class Sandbox:
    """The emulated API as a WSGI application.

    ``pull_shape`` and ``entry_names``: how Pull answers are shaped (see ``listing``).
    ``rewrite_links``: store tweets as Twitter does, links as t.co URLs, white space
    collapsed. ``clock_offset``: seconds that OneAll's clock (the ``Date`` header, the
    envelope's date, entry dates) is ahead of the local one.
    """

    def __init__(self, public_key: str, private_key: str, *, db_path: Path | None = None,
                 faults: Faults | None = None, seed: int | None = None,
                 pull_shape: PullShape = "nested", entry_names: EntryNames = "long",
                 rewrite_links: bool = False, clock_offset: float = 0.0) -> None:
        if pull_shape not in PULL_SHAPES or entry_names not in ENTRY_NAMES:
            raise ValueError(f"pull_shape is one of {PULL_SHAPES}, entry_names one of {ENTRY_NAMES}")
        self.public_key = public_key
        self.private_key = private_key
        self.faults = faults or Faults()
        self.pull_shape: PullShape = pull_shape
        self.entry_names: EntryNames = entry_names
        self.rewrite_links = rewrite_links
        self.clock_offset = clock_offset
        self.received: list[Received] = []
        self.store = Store(db_path)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests handled at once: concurrency, measured
        self._random = random.Random(seed)
        self._routes = {
            "push": [(route(e.path), e) for e in catalog.ENDPOINTS],
            "update": [(route(e.update.path), e) for e in catalog.ENDPOINTS if e.update],
            "pull": [(route(e.pull), e) for e in catalog.ENDPOINTS if e.pull],
        }

    # ------------------------------------------------------------ data and admin

    @property
    def identities(self) -> dict[str, Identity]:
        return self.store.identities

    @property
    def objects(self) -> list[dict[str, Any]]:
        return self.store.objects

    def now(self) -> float:
        """OneAll's clock, in seconds since the epoch."""
        return time.time() + self.clock_offset

    def add_identity(self, token: str, network: str, name: str) -> None:
        """Make ``token`` a connected account of ``network`` (idempotent)."""
        with self._lock:
            self.store.add_identity(token, network, name)

    def published(self, type_name: str | None = None, *, deleted: bool = False) -> list[dict[str, Any]]:
        """Every object published so far, oldest first; deleted ones only if ``deleted``."""
        with self._lock:
            return [dict(o) for o in self.objects
                    if type_name in (None, o["type"]) and (deleted or not o.get("deleted"))]

    def edit_elsewhere(self, object_id: str, fields: Mapping[str, Any], *, type_name: str | None = None) -> None:
        """Change a published object as its owner would on the network's own site (drift).

        ``fields`` are wire names; ``None`` removes one. Nothing is validated.

        Raises:
            KeyError: no live object has this id. ValueError: several have (give ``type_name``).
        """
        with self._lock:
            self.store.edit(self.store.by_id(object_id, type_name), fields)

    def delete_elsewhere(self, object_id: str, *, type_name: str | None = None) -> None:
        """Delete a published object as its owner would on the network's own site.

        Raises:
            KeyError: no live object has this id. ValueError: several have (give ``type_name``).
        """
        with self._lock:
            self.store.delete(self.store.by_id(object_id, type_name))

    # ------------------------------------------------------------ WSGI

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        query = parse_qs(environ.get("QUERY_STRING", ""))
        raw = read_body(environ)
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
                 environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        faults = self.faults
        # An answer leaves ``latency`` after its request came, the work included, as a
        # real API's latency includes its own work (the post exists before its answer
        # arrives, as on a real network: a client cut off meanwhile has an unknown outcome).
        due = time.monotonic() + faults.latency
        fault = faults.refusal(self._random)
        if fault:
            code, info = fault
            headers = [("Retry-After", str(faults.retry_after))] if code == 429 else []
            _wait_until(due)
            return answer(start_response, path, code, info, None, now=self.now(), headers=headers)
        ghost = method in ("POST", "PUT", "DELETE") and draw(self._random, faults.ghost)
        try:
            code, info, data = 200, _OK, self._handle(method, path, query, raw, environ)
        except SandboxRefusal as refused:
            code, info, data = refused.code, refused.info, None
        if ghost and code < 400:
            time.sleep(faults.ghost_delay)
        _wait_until(due)
        if draw(self._random, faults.gateway_502):
            return gateway_page(start_response, now=self.now())
        return answer(start_response, path, code, info, data, now=self.now())

    def _handle(self, method: str, path: str, query: dict[str, list[str]], raw: bytes,
                environ: dict[str, Any]) -> Any:
        if not self._authorised(environ.get("HTTP_AUTHORIZATION", "")):
            raise SandboxRefusal(401, "Authentication failed: the API keys are missing or wrong")
        match = _PATH.fullmatch(path)
        if match is None:
            raise SandboxRefusal(404, f"Unknown resource {path}")
        api, token, rest = match["api"], match["token"], match["rest"]
        legacy = api == "push" and rest == _LEGACY_PIN_PATH
        if legacy:
            endpoint, params = catalog.BY_TYPE["pinterest.pin"], dict[str, str]()
        else:
            endpoint, params = _route(self._routes[api], rest, path)
        allowed = {"push": ("POST",), "pull": ("GET",),
                   "update": ("PUT", "DELETE") if endpoint.editable else ("DELETE",)}[api]
        if method not in allowed:
            raise SandboxRefusal(405, f"{path} takes {' or '.join(allowed)} requests")
        with self._lock:
            identity = self.identities.get(token)
            if identity is None:
                raise SandboxRefusal(404, f"Unknown identity_token {token}")
            if identity.network != endpoint.network:
                raise SandboxRefusal(403, f"The identity {token} is a {identity.network} account, not {endpoint.network}")
            if api == "pull":
                objects = self.store.matching(endpoint, identity.token, params)
                return pull_page(endpoint, objects, params, query, shape=self.pull_shape, names=self.entry_names)
            if api == "push":
                return self._push(endpoint, identity, params, raw, legacy)
            if method == "DELETE":
                if raw or query:
                    raise SandboxRefusal(400, "A DELETE takes no body and no query parameter")
                self.store.delete(self._one(endpoint, identity, params))
                return None
            return self._edit(endpoint, identity, params, raw)

    def _authorised(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, self.public_key) & hmac.compare_digest(password, self.private_key)

    # ------------------------------------------------------------ Push and Update

    def _push(self, endpoint: Endpoint, identity: Identity, params: dict[str, str], raw: bytes,
              legacy: bool) -> Any:
        node = read_node(raw, "push", endpoint.node)
        if legacy:
            node = {_LEGACY_PIN_FIELDS.get(k, k): v for k, v in node.items()}
            board = node.pop("board", None)
            if not isinstance(board, str) or not board:
                raise SandboxRefusal(400, "Missing required field pin.board")
            # An id, or ``<user>/<board>`` as in the board's URL; unknown: refused like the path's.
            params = {"board": self.store.board_id(identity.token, board, by="path") or board}
        values = {k: v for k, v in check_node(endpoint, node, params).items() if v is not None}
        check_one_of(endpoint, values)
        check_targets(endpoint, self.store, identity, values)
        data: dict[str, Any] = {"provider": endpoint.network, "object": endpoint.object}
        data.update(IdMinter(self._random, identity.token, identity.name).for_endpoint(endpoint, values))
        fields = {endpoint.by_name[k].wire_name: v for k, v in values.items()}
        stored = {"type": endpoint.type, "token": identity.token, "fields": fields, "result": data,
                  "date": formatdate(self.now(), usegmt=True)}
        if self.rewrite_links and endpoint.type == "twitter.post":
            stored["fields"] = {**fields, "message": rewrite_tweet(fields["message"], self._random)}
            if stored["fields"] != fields:
                stored["sent"] = fields
        self.store.add_object(stored)
        return data

    def _edit(self, endpoint: Endpoint, identity: Identity, params: dict[str, str], raw: bytes) -> Any:
        """A PUT: replaces the fields it names [contract]; answers the Push result."""
        update = endpoint.update
        assert update is not None and update.edit_node is not None
        obj = self._one(endpoint, identity, params)
        node = read_node(raw, "update", update.edit_node)
        # A pin's Update body may name a board to move it to, by the board's name [doc, §6].
        board = node.pop("board", None) if endpoint.type == "pinterest.pin" else None
        values = check_node(endpoint, node, {}, only=update.editable, node_name=".".join(update.edit_node))
        for group in endpoint.exclusive:  # naming one of a link-or-attachments pair drops the other
            if any(values.get(name) for name in group):
                values.update({name: None for name in group if name not in values})
        current = {f.name: obj["fields"][f.wire_name] for f in endpoint.fields if f.wire_name in obj["fields"]}
        check_one_of(endpoint, {k: v for k, v in {**current, **values}.items() if v is not None})
        check_targets(endpoint, self.store, identity, {k: v for k, v in values.items() if v is not None})
        changes = {endpoint.by_name[k].wire_name: v for k, v in values.items()}
        if board is not None:
            changes["board"] = self.store.board_id(identity.token, board, by="name")
            if changes["board"] is None:
                raise SandboxRefusal(400, f"Unknown board {board!r} for pin.board")
        self.store.edit(obj, changes)
        return obj["result"]

    def _one(self, endpoint: Endpoint, identity: Identity, params: Mapping[str, str]) -> dict[str, Any]:
        """The live object an Update path names; another identity's is unknown too."""
        for obj in self.store.matching(endpoint, identity.token, params):
            return obj
        raise SandboxRefusal(404, f"Unknown {endpoint.object} {'/'.join(params.values())}")


def _route(routes: list[tuple[re.Pattern[str], Endpoint]], rest: str, path: str) -> tuple[Endpoint, dict[str, str]]:
    for pattern, endpoint in routes:
        found = pattern.fullmatch(rest)
        if found:
            return endpoint, found.groupdict()
    raise SandboxRefusal(404, f"Unknown resource {path}")


def new_keys() -> tuple[str, str]:
    """A fresh key pair for an embedded sandbox run."""
    return f"sandbox-{secrets.token_hex(8)}", secrets.token_hex(24)


def _wait_until(due: float) -> None:
    left = due - time.monotonic()
    if left > 0:
        time.sleep(left)
