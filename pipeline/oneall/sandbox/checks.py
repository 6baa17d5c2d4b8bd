"""Validation of request bodies against the endpoint catalogue: what OneAll answers 400 to.

The sandbox derives every check from ``pipeline.catalog`` (node paths, wire names,
kinds, limits, required and one-of groups), so it refuses exactly what the catalogue
says OneAll refuses, and nothing the client builds from the same table.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from pipeline import catalog
from pipeline.catalog import Endpoint, Kind
from pipeline.errors import SandboxRefusal
from pipeline.model.config import check_http_url
from pipeline.oneall.sandbox.store import Identity, Store


def route(template: str) -> re.Pattern[str]:
    """A catalogue path template (``pinterest/board/{board}/pin.json``) as a regex."""
    pattern = re.escape(template)
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(pattern)


def read_node(raw: bytes, api: str, node_path: tuple[str, ...]) -> dict[str, Any]:
    """The body's ``request.<api>.<node…>`` object.

    OneAll reads the raw body as JSON whatever the Content-Type says [doc].

    Raises:
        SandboxRefusal: 400 when the body is not JSON or the node is missing or not an object.
    """
    name = ".".join(node_path)
    try:
        node = json.loads(raw)["request"][api]
        for part in node_path:
            node = node[part]
    except (ValueError, KeyError, TypeError):
        raise SandboxRefusal(400, f"The request body must be JSON holding request.{api}.{name}") from None
    if not isinstance(node, dict):
        raise SandboxRefusal(400, f"request.{api}.{name} must be an object")
    return node


def check_node(endpoint: Endpoint, node: dict[str, Any], params: dict[str, str], *,
               only: tuple[str, ...] | None = None, node_name: str | None = None) -> dict[str, Any]:
    """The node's fields by manifest name, path parameters included.

    ``only``: the fields a PUT may name (the catalogue's ``update.editable``); of the
    required fields, only those must be given. ``link: ""`` means no link, as OneAll's
    PHP SDK sends it: such a field comes back as ``None``. ``node_name`` names the node
    in messages (a PUT's differs from the Push node). A link and attachments (the
    endpoint's ``exclusive`` groups) are never given together.

    Raises:
        SandboxRefusal: 400 for an unknown field, a bad value, a missing required field,
            fields of a group that excludes each other given together.
    """
    node_name = node_name or endpoint.node_name
    allowed = [f for f in endpoint.fields if not f.in_path and (only is None or f.name in only)]
    by_wire = {f.wire_name: f for f in allowed}
    values: dict[str, Any] = dict(params)
    for key, value in node.items():
        spec = by_wire.get(key)
        if spec is None:
            raise SandboxRefusal(400, f"Unknown field {node_name}.{key}")
        if spec.kind is Kind.URL and value == "":
            values[spec.name] = None
            continue
        problem = check_value(spec, value)
        if problem:
            raise SandboxRefusal(400, f"Invalid {node_name}.{key}: {problem}")
        values[spec.name] = value
    for spec in allowed:
        if spec.required and values.get(spec.name) is None:
            raise SandboxRefusal(400, f"Missing required field {node_name}.{spec.wire_name}")
    for group in endpoint.exclusive:
        given = [name for name in group if values.get(name)]
        if len(given) > 1:
            raise SandboxRefusal(400, f"Give {' or '.join(group)}, not both")
    return values


def check_one_of(endpoint: Endpoint, values: Mapping[str, Any]) -> None:
    """At least one field of each of the endpoint's one-of groups (message or link).

    Raises:
        SandboxRefusal: 400 when a group is empty.
    """
    for group in endpoint.one_of:
        if not any(values.get(name) for name in group):
            raise SandboxRefusal(400, f"One of {', '.join(group)} is required")


def check_value(spec: catalog.Field, value: Any) -> str | None:
    """Why ``value`` does not fit ``spec``, or None."""
    if spec.kind is Kind.BOOL:
        return None if isinstance(value, bool) else "must be true or false"
    if spec.kind is Kind.INT:
        return None if isinstance(value, int) and not isinstance(value, bool) else "must be a whole number"
    if spec.kind is Kind.ID_LIST:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            return "must be a list of ids, each a string"
        if spec.max_items is not None and len(value) > spec.max_items:
            return f"at most {spec.max_items} allowed, got {len(value)}"
        return None
    if spec.kind is Kind.ID and not (isinstance(value, str) and value):
        return "must be an id, as a string"  # ids are strings on the wire [contract]
    if not isinstance(value, str):
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


def check_targets(endpoint: Endpoint, store: Store, identity: Identity, values: dict[str, Any]) -> None:
    """What the network itself refuses: unknown boards/playlists/media, a video with
    other media (a field's ``alone`` rule), a duplicate tweet.

    Raises:
        SandboxRefusal: 404 for an unknown board or playlist in the path, 400 for unknown media
            or a video with other media, 409 for a duplicate tweet.
    """
    for spec in endpoint.fields:
        if not spec.accepts or not values.get(spec.name):
            continue
        wanted = values[spec.name] if spec.kind is Kind.ID_LIST else [values[spec.name]]
        owner = identity.token if spec.same_identity else None
        types = [store.type_of(spec.accepts, value, owner) for value in wanted]
        # Videos on YouTube may be anyone's: a literal id we never minted is accepted.
        types = [t or (spec.accepts[0] if spec.name == "video_id" else None) for t in types]
        for value, found in zip(wanted, types):
            if found is None:
                what = "/".join(t.split(".")[-1] for t in spec.accepts)
                raise SandboxRefusal(404 if spec.in_path else 400, f"Unknown {what} {value!r} for {spec.name}")
        if len(types) > 1 and set(types) & set(spec.alone):
            raise SandboxRefusal(400, f"Invalid {endpoint.node_name}.{spec.wire_name}: "
                               f"a {' or '.join(spec.alone)} goes alone")
    if endpoint.type == "twitter.post" and isinstance(values.get("message"), str):
        if store.tweets_saying(identity.token, values["message"]):
            raise SandboxRefusal(409, "Status is a duplicate: Twitter refused the tweet")
