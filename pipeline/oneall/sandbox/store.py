"""What the sandbox remembers: connected identities and published objects.

Kept in memory and, when a path is given, appended to a JSON-lines file as events,
so that a sandbox started again on the same file knows what was published before.
The caller holds the sandbox's lock around every method.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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

    def _load(self, path: Path) -> None:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash
            if item.pop("kind") == "identity":
                self.identities[item["token"]] = Identity(**item)
            else:
                self.objects.append(item)

    def _persist(self, item: dict[str, Any]) -> None:
        if self.db_path is None:
            return
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.db_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(item, sort_keys=True) + "\n")
