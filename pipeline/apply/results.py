"""What apply reports: a progress event per change, the result of a run, and the
publisher it sends through (OneAll's client, or the sandbox's)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, Mapping, Protocol

from pipeline import catalog


class Publisher(Protocol):
    """What the executor sends through: OneAll's client, or the sandbox's."""

    def push(self, endpoint: catalog.Endpoint, token: str, values: Mapping[str, Any]) -> dict[str, Any]: ...

    def edit(self, endpoint: catalog.Endpoint, token: str, values: Mapping[str, Any],
             result: Mapping[str, str]) -> dict[str, Any]: ...

    def delete(self, endpoint: catalog.Endpoint, token: str, values: Mapping[str, Any],
               result: Mapping[str, str]) -> None: ...

    @property
    def clock_offset(self) -> timedelta | None:
        """OneAll's clock minus the local one, once an answer has told it."""


Done = Literal["published", "edited", "deleted"]
Outcome = Literal["published", "edited", "deleted", "failed", "unknown", "skipped"]
DONE: frozenset[str] = frozenset({"published", "edited", "deleted"})


@dataclass(frozen=True)
class Event:
    """Progress of one change, for the CLI to show."""

    address: str
    outcome: Outcome | Literal["started"]
    detail: str = ""
    result: Mapping[str, str] = field(default_factory=dict)


@dataclass
class ApplyResult:
    published: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.failed or self.unknown or self.skipped)

    def add(self, key: str, outcome: Outcome, detail: str = "") -> None:
        """Count one change's outcome."""
        done = {"published": self.published, "edited": self.edited, "deleted": self.deleted}.get(outcome)
        if done is not None:
            done.append(key)
        else:
            {"failed": self.failed, "unknown": self.unknown, "skipped": self.skipped}[outcome][key] = detail


#: The longest id or URL recorded from an answer: a real one is far shorter.
MAX_ID_CHARS = 2048


def answer_ids(endpoint: catalog.Endpoint, data: Mapping[str, Any]) -> dict[str, str]:
    """The ids and URL an answer gives, as the state records them: only the result
    fields the catalogue names for this endpoint, as text of a sane length (the answer
    is the network's, not ours to trust)."""
    ids = {k: str(data[k])[:MAX_ID_CHARS] for k in endpoint.results if data.get(k) is not None}
    # An id that cannot stand in a resource path (".." would turn a later delete into
    # another resource's) is not recorded: the post is then settled by a person.
    return {k: v for k, v in ids.items() if not k.endswith("_id") or catalog.is_segment(v)}
