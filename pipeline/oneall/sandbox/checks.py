"""Validation of request bodies against the endpoint catalogue: what OneAll answers 400 to.

The sandbox derives every check from ``pipeline.catalog`` (node paths, wire names,
kinds, limits, required and one-of groups), so it refuses exactly what the catalogue
says OneAll refuses, and nothing the client builds from the same table.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pipeline import catalog
from pipeline.catalog import Endpoint, Kind
from pipeline.model.config import check_http_url


class Refused(Exception):
    """A request OneAll would refuse; ``code`` and ``info`` make the error envelope."""

    def __init__(self, code: int, info: str) -> None:
        super().__init__(info)
        self.code = code
        self.info = info


def route(template: str) -> re.Pattern[str]:
    """A catalogue path template (``pinterest/board/{board}/pin.json``) as a regex."""
    pattern = re.escape(template)
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(pattern)


def read_node(raw: bytes, api: str, node_path: tuple[str, ...]) -> dict[str, Any]:
    """The body's ``request.<api>.<node…>`` object.

    OneAll reads the raw body as JSON whatever the Content-Type says [doc].

    Raises:
        Refused: 400 when the body is not JSON or the node is missing or not an object.
    """
    name = ".".join(node_path)
    try:
        node = json.loads(raw)["request"][api]
        for part in node_path:
            node = node[part]
    except (ValueError, KeyError, TypeError):
        raise Refused(400, f"The request body must be JSON holding request.{api}.{name}") from None
    if not isinstance(node, dict):
        raise Refused(400, f"request.{api}.{name} must be an object")
    return node


def check_node(endpoint: Endpoint, node: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    """The node's fields by manifest name, path parameters included.

    Raises:
        Refused: 400 for an unknown field, a bad value, a missing required field.
    """
    by_wire = {f.wire_name: f for f in endpoint.fields if not f.in_path}
    values: dict[str, Any] = dict(params)
    for key, value in node.items():
        spec = by_wire.get(key)
        if spec is None:
            raise Refused(400, f"Unknown field {endpoint.node_name}.{key}")
        problem = check_value(spec, value)
        if problem:
            raise Refused(400, f"Invalid {endpoint.node_name}.{key}: {problem}")
        values[spec.name] = value
    for spec in endpoint.fields:
        if spec.required and spec.name not in values:
            raise Refused(400, f"Missing required field {endpoint.node_name}.{spec.wire_name}")
    for group in endpoint.one_of:
        if not any(values.get(name) for name in group):
            raise Refused(400, f"One of {', '.join(group)} is required")
    return values


def check_value(spec: catalog.Field, value: Any) -> str | None:
    """Why ``value`` does not fit ``spec``, or None."""
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
