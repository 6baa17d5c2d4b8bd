"""What the sandbox remembers: connected identities and published objects.

Kept in memory and, when a path is given, appended to a JSON-lines file as events
(an identity, an object, an edit, a delete), so that a sandbox started again on the
same file knows what was published, edited and deleted before. The caller holds the
sandbox's lock around every method.

An object is a dict: ``type`` (the endpoint), ``token`` (whose), ``date`` (RFC 2822 on
OneAll's clock), ``fields`` (as on the wire, after what the network rewrites),
``result`` (the Push result data), ``deleted`` (once deleted) and, when the network
rewrote the text, ``sent`` (the fields as they were sent).

Lookups that every Push or Update makes (an id, a tweet's text) go through indexes, so
that a request costs the same with twenty thousand objects as with ten: an API that
slows down as it fills would make a long apply measure the sandbox, not the client.
The indexes only narrow the search: each candidate is checked as a scan would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Literal, Mapping

from pipeline import catalog

#: Types that other objects live inside (a playlist's items, a board's pins): deleting
#: one of these deletes its contents; deleting anything else looks no further.
_CONTAINERS = frozenset(t for e in catalog.ENDPOINTS for f in e.fields if f.in_path for t in f.accepts)


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
        #: Objects by each ``*_id`` of their result (ids never change once minted).
        self._by_id: dict[str, list[dict[str, Any]]] = {}
        #: Tweets by (owner, text as Twitter compares it), as of their creation or last edit.
        self._by_text: dict[tuple[str, str], list[dict[str, Any]]] = {}
        if db_path and db_path.exists():
            self._load(db_path)

    def add_identity(self, token: str, network: str, name: str) -> None:
        known = self.identities.get(token)
        if known and known.network == network:
            return
        self.identities[token] = Identity(token, network, name)
        self._persist({"kind": "identity", "token": token, "network": network, "name": name})

    def add_object(self, stored: dict[str, Any]) -> None:
        self._add(stored)
        self._persist({"kind": "object", **stored})

    def _add(self, obj: dict[str, Any]) -> None:
        self.objects.append(obj)
        for key, value in obj["result"].items():
            if key.endswith("_id"):
                self._by_id.setdefault(str(value), []).append(obj)
        self._index_text(obj)

    def _index_text(self, obj: dict[str, Any]) -> None:
        text = tweet_text(obj)
        if text is not None:
            self._by_text.setdefault((obj["token"], text), []).append(obj)

    def tweets_saying(self, token: str, text: str) -> list[dict[str, Any]]:
        """``token``'s live tweets whose text (as first sent, unless edited since) is ``text``."""
        return [o for o in self._by_text.get((token, text), ())
                if not o.get("deleted") and tweet_text(o) == text]

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
        found = [o for o in self._by_id.get(object_id, ()) if not o.get("deleted")
                 and type_name in (None, o["type"]) and _own_id(o) == object_id]
        if not found:
            raise KeyError(object_id)
        if len(found) > 1:
            raise ValueError(f"{object_id} is the id of {len(found)} objects: give type_name")
        return found[0]

    def type_of(self, types: tuple[str, ...], object_id: str, token: str | None) -> str | None:
        """The type of the live object of one of ``types`` with this id (``token``'s, if given)."""
        for obj in self._by_id.get(object_id, ()):
            if not obj.get("deleted") and token in (None, obj["token"]) and obj["type"] in types \
                    and _own_id(obj) == object_id:
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

        own = params.get(endpoint.id_field)
        # Every object's result holds its own id (the minter always gives one): when the
        # path names it, only the objects indexed under it can match.
        candidates = self.live(endpoint.type, token) if own is None else (
            o for o in self._by_id.get(own, ()) if not o.get("deleted") and o["type"] == endpoint.type
            and o["token"] == token)
        return [obj for obj in candidates if all(str(value(obj, k)) == v for k, v in params.items())]

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

    def _edit(self, obj: dict[str, Any], changes: Mapping[str, Any]) -> None:
        for name, value in changes.items():
            if value is None:
                obj["fields"].pop(name, None)
            else:
                obj["fields"][name] = value
        obj.pop("sent", None)  # what was sent first no longer describes it
        self._index_text(obj)  # the old entry stays, and no longer matches its text

    def _delete(self, obj: dict[str, Any]) -> None:
        obj["deleted"] = True
        if obj["type"] not in _CONTAINERS:
            return
        own_id = _own_id(obj)
        for other in self.live(token=obj["token"]):
            for spec in catalog.BY_TYPE[other["type"]].fields:
                if spec.in_path and obj["type"] in spec.accepts and other["fields"].get(spec.wire_name) == own_id:
                    other["deleted"] = True

    def _find(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        own = key["result"].get(catalog.BY_TYPE[key["type"]].id_field)
        candidates = self.live(key["type"], key["token"]) if own is None else self._by_id.get(str(own), ())
        return next((o for o in candidates if not o.get("deleted") and o["type"] == key["type"]
                     and o["token"] == key["token"] and o["result"] == key["result"]), None)

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
                self._add(item)
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


def _own_id(obj: Mapping[str, Any]) -> Any:
    """The object's own id: ``<object>_id`` of its result."""
    return obj["result"].get(catalog.BY_TYPE[obj["type"]].id_field)


def tweet_text(obj: Mapping[str, Any]) -> str | None:
    """What Twitter compares to find a duplicate: the text as it was sent (before its
    links were shortened), or as edited since; None for anything but a tweet."""
    if obj["type"] != "twitter.post":
        return None
    text = obj.get("sent", obj["fields"]).get("message")
    return text if isinstance(text, str) else None
