"""What the sandbox remembers: connected identities and published objects.

Kept in memory and, when a path is given, appended to a JSON-lines file as events
(an identity, an object, an edit, a delete), so that a sandbox started again on the
same file knows what was published, edited and deleted before. The caller holds the
sandbox's lock around every method.

An object is a dict: ``type`` (the endpoint), ``token`` (whose), ``date`` (RFC 2822 on
OneAll's clock), ``fields`` (as on the wire, after what the network rewrites),
``result`` (the Push result data), ``deleted`` (once deleted) and, when the network
rewrote the text, ``sent`` (the fields as they were sent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Literal, Mapping

from pipeline import catalog


@dataclass
class Identity:
    """A connected social account: its token, its network and its screen name."""

    token: str
    network: str
    name: str


class Store:
    """Identities and objects, optionally persisted to ``db_path``."""

    def __init__(self, db_path: Path | None) -> None:
        self.db_path = db_path
        self.identities: dict[str, Identity] = {}
        self.objects: list[dict[str, Any]] = []
        if db_path and db_path.exists():
            self._load(db_path)

    def add_identity(self, token: str, network: str, name: str) -> None:
        known = self.identities.get(token)
        if known and known.network == network:
            return
        self.identities[token] = Identity(token, network, name)
        self._persist({"kind": "identity", "token": token, "network": network, "name": name})

    def add_object(self, stored: dict[str, Any]) -> None:
        self.objects.append(stored)
        self._persist({"kind": "object", **stored})

    def live(self, type_name: str | None = None, token: str | None = None) -> Iterator[dict[str, Any]]:
        """Objects not deleted, oldest first."""
        for obj in self.objects:
            if not obj.get("deleted") and type_name in (None, obj["type"]) and token in (None, obj["token"]):
                yield obj

    def by_id(self, object_id: str, type_name: str | None) -> dict[str, Any]:
        """The live object with this id (``<object>_id`` of its result).

        Raises:
            KeyError: none has. ValueError: several have (give ``type_name``).
        """
        found = [o for o in self.live(type_name)
                 if o["result"].get(catalog.BY_TYPE[o["type"]].id_field) == object_id]
        if not found:
            raise KeyError(object_id)
        if len(found) > 1:
            raise ValueError(f"{object_id} is the id of {len(found)} objects: give type_name")
        return found[0]

    def type_of(self, types: tuple[str, ...], object_id: str, token: str | None) -> str | None:
        """The type of the live object of one of ``types`` with this id (``token``'s, if given)."""
        for obj in self.live(token=token):
            if obj["type"] in types and obj["result"].get(catalog.BY_TYPE[obj["type"]].id_field) == object_id:
                return str(obj["type"])
        return None

    def matching(self, endpoint: catalog.Endpoint, token: str,
                 params: Mapping[str, str]) -> list[dict[str, Any]]:
        """``token``'s live objects of ``endpoint`` whose path parameters (the page, the
        playlist, the post's id) are ``params``."""
        def value(obj: dict[str, Any], name: str) -> Any:
            if name in obj["result"]:
                return obj["result"][name]
            return obj["fields"].get(endpoint.by_name[name].wire_name)

        return [obj for obj in self.live(endpoint.type, token)
                if all(str(value(obj, k)) == v for k, v in params.items())]

    def board_id(self, token: str, board: str, *, by: Literal["name", "path"]) -> str | None:
        """The id of ``token``'s board named ``board`` (by its name), or whose id or
        ``<user>/<board>`` URL path is ``board`` (by path)."""
        for obj in self.live("pinterest.board", token):
            result = obj["result"]
            names = ((obj["fields"].get("name"),) if by == "name" else
                     (result["board_id"], result["board_location"].split(".com/")[-1].strip("/")))
            if board in names:
                return str(result["board_id"])
        return None

    def edit(self, obj: dict[str, Any], changes: Mapping[str, Any]) -> None:
        """Set the wire fields in ``changes`` (``None`` removes one)."""
        self._edit(obj, changes)
        self._persist({"kind": "edit", **_key(obj), "fields": dict(changes)})

    def delete(self, obj: dict[str, Any]) -> None:
        """Delete ``obj`` and what lives inside it (a playlist's items)."""
        self._delete(obj)
        self._persist({"kind": "delete", **_key(obj)})

    @staticmethod
    def _edit(obj: dict[str, Any], changes: Mapping[str, Any]) -> None:
        for name, value in changes.items():
            if value is None:
                obj["fields"].pop(name, None)
            else:
                obj["fields"][name] = value
        obj.pop("sent", None)  # what was sent first no longer describes it

    def _delete(self, obj: dict[str, Any]) -> None:
        obj["deleted"] = True
        endpoint = catalog.BY_TYPE[obj["type"]]
        own_id = obj["result"].get(endpoint.id_field)
        for other in self.live(token=obj["token"]):
            for spec in catalog.BY_TYPE[other["type"]].fields:
                if spec.in_path and obj["type"] in spec.accepts and other["fields"].get(spec.wire_name) == own_id:
                    other["deleted"] = True

    def _find(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        return next((o for o in self.live(key["type"], key["token"]) if o["result"] == key["result"]), None)

    def _load(self, path: Path) -> None:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
                kind = item.pop("kind")
            except (json.JSONDecodeError, AttributeError, KeyError):
                continue  # a line cut short by a crash
            if kind == "identity":
                self.identities[item["token"]] = Identity(**item)
            elif kind == "object":
                self.objects.append(item)
            elif (obj := self._find(item)) is not None:
                if kind == "edit":
                    self._edit(obj, item["fields"])
                elif kind == "delete":
                    self._delete(obj)

    def _persist(self, item: dict[str, Any]) -> None:
        if self.db_path is None:
            return
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.db_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(item, sort_keys=True) + "\n")


def _key(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What finds an object again in the db: its type, owner and result."""
    return {"type": obj["type"], "token": obj["token"], "result": obj["result"]}
