"""The state journal's events: one typed union, one constructor per kind.

Every change to the state is one of these, written to the journal (one JSON object a
line) before it is folded into the state by ``model.state.fold``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, Literal, Union

from pipeline.errors import BadEvent

#: What a request for an address did: publish it, edit it in place, delete it.
Verb = Literal["create", "update", "delete"]


# Times are ISO 8601 strings: events are written on the hot path of an apply, and a
# string costs nothing to write; ``fold`` hands them to pydantic, which parses them.


@dataclass(frozen=True, slots=True)
class _Event:
    op: ClassVar[str]
    address: str

    def to_json(self) -> dict[str, Any]:
        """The event as a journal line holds it."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        return {"op": self.op, **{k: v for k, v in data.items() if v is not None}}


@dataclass(frozen=True, slots=True)
class Intent(_Event):
    """About to send a request for ``address`` (written before it is sent)."""

    op: ClassVar[str] = "intent"
    verb: Verb
    type: str
    identity: str
    digest: str
    at: str
    sent: dict[str, Any] | None = None
    request: dict[str, Any] | None = None
    clock_offset: float | None = None
    #: ``--replace``: the record the new post replaces, as JSON.
    replaces: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Published(_Event):
    """OneAll published it and answered with these ids."""

    op: ClassVar[str] = "published"
    type: str
    identity: str
    digest: str
    result: dict[str, str]
    at: str
    attempted_at: str | None = None
    request: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Edited(_Event):
    """OneAll edited the post in place: it now holds ``request``."""

    op: ClassVar[str] = "edited"
    digest: str
    at: str
    request: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Deleted(_Event):
    """OneAll deleted the post (or answered that it was already gone).

    ``superseded``: it was the old post of a ``--replace``, not the address's own.
    """

    op: ClassVar[str] = "deleted"
    at: str
    superseded: bool = False


@dataclass(frozen=True, slots=True)
class Failed(_Event):
    """The request surely did nothing (an error answer, or it never left)."""

    op: ClassVar[str] = "failed"
    at: str
    verb: Verb = "create"


@dataclass(frozen=True, slots=True)
class Resolved(_Event):
    """A person settled an unknown outcome: published with ``result``, or not (None)."""

    op: ClassVar[str] = "resolved"
    at: str
    result: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Accepted(_Event):
    """A person recorded the current rendering as what is online; nothing was sent."""

    op: ClassVar[str] = "accepted"
    digest: str
    request: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Imported(_Event):
    """A post made elsewhere, adopted: recorded as published without sending anything."""

    op: ClassVar[str] = "imported"
    type: str
    identity: str
    digest: str
    result: dict[str, str]
    at: str
    how: Literal["read", "ids"]
    request: dict[str, Any] | None = None
    published_at: str | None = None


@dataclass(frozen=True, slots=True)
class Drifted(_Event):
    """What ``refresh --write`` learned of a recorded post: ``deleted`` elsewhere, or
    ``edited`` elsewhere (``request`` and ``digest``: what is online now)."""

    op: ClassVar[str] = "drifted"
    drift: Literal["deleted", "edited"]
    at: str
    digest: str | None = None
    request: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Moved(_Event):
    """The manifest moved: the same post, recorded under its new address."""

    op: ClassVar[str] = "move"
    to: str


@dataclass(frozen=True, slots=True)
class Forgotten(_Event):
    """Dropped from the state; the post stays online."""

    op: ClassVar[str] = "forget"


Event = Union[Intent, Published, Edited, Deleted, Failed, Resolved, Accepted, Imported, Drifted,
              Moved, Forgotten]
_KINDS: dict[str, type[_Event]] = {k.op: k for k in (Intent, Published, Edited, Deleted, Failed, Resolved,
                                                     Accepted, Imported, Drifted, Moved, Forgotten)}


def parse_event(data: Any) -> Event:
    """An event from its JSON form; ``BadEvent`` says what is wrong."""
    if not isinstance(data, dict):
        raise BadEvent("not a JSON object")
    kind = _KINDS.get(str(data.get("op")))
    if kind is None:
        raise BadEvent(f"unknown event {data.get('op')!r}")
    names = {f.name for f in fields(kind)}
    extra = sorted(set(data) - names - {"op"})
    if extra:
        raise BadEvent(f"{kind.op} event with unknown field(s) {', '.join(extra)}")
    try:
        event = kind(**{k: v for k, v in data.items() if k != "op"})
    except TypeError as exc:
        raise BadEvent(f"{kind.op} event: {exc}") from None
    for f in fields(event):
        value = getattr(event, f.name)
        if f.name in ("address", "to", "at", "digest", "type", "identity") and not isinstance(value, str):
            raise BadEvent(f"{kind.op} event: {f.name} must be a string")
    return event  # type: ignore[return-value]  # _KINDS holds only members of Event
