"""A desired action: what one manifest asks OneAll to do for one address, rendered.

The type that flows from loading to planning. Its digest is what the state records as
"what was sent", so that a later plan can tell an unchanged post from a changed one.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline import catalog
from pipeline.errors import Location


@dataclass(frozen=True, slots=True)
class RefUse:
    """A reference written in a field: where, and to which address."""

    field: str
    target: str
    location: Location


@dataclass(frozen=True, slots=True)
class DesiredAction:
    """One rendered, validated action: what the manifests ask to be published."""

    address: str
    type: str
    identity: str
    token: str
    #: Rendered request fields; a reference is ``{"ref": "<address>"}``.
    request: dict[str, Any]
    refs: tuple[RefUse, ...]
    publish_at: datetime | None
    location: Location
    digest: str
    #: ``deleted: true`` in the manifest: delete what was published, never publish it.
    deleted: bool = False

    @property
    def endpoint(self) -> catalog.Endpoint:
        return catalog.BY_TYPE[self.type]


def request_digest(type_name: str, token: str, request: dict[str, Any], prefix: str = "") -> str:
    """A stable digest of what would be sent: changes when the post would differ.

    A reference counts by its path relative to the manifest (``./name`` within it), so
    moving or renaming a manifest, or a folder of them, leaves the digests as they were
    and the planner can tell a moved post from a new one.
    """
    if prefix:
        request = {k: v if type(v) is str else _relative(v, prefix) for k, v in request.items()}
    canonical = _CANONICAL.encode([type_name, token, request])
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


#: What ``json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
#: makes, without making an encoder at every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _relative(value: Any, prefix: str) -> Any:
    if isinstance(value, list):
        return [_relative(v, prefix) for v in value]
    if isinstance(value, dict) and isinstance(value.get("ref"), str):
        target = value["ref"]
        if target.startswith(prefix + "/"):
            return {"ref": "./" + target[len(prefix) + 1:]}
        return {"ref": posixpath.relpath(target, posixpath.dirname(prefix) or ".")}
    return value
