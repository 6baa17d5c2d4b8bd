"""The state as a model: what has been published, per address, and the journal's events.

Every change to the state is one typed event, built by one constructor per kind and
folded into the state by ``fold``, the one place that says what an event means. The
journal is a list of these events (one JSON object a line); the snapshot is their sum.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from pipeline import catalog
from pipeline.errors import BadEvent
from pipeline.model.config import STRICT

FORMAT_VERSION: Literal[1] = 1

#: What a request for an address did: publish it, edit it in place, delete it.
Verb = Literal["create", "update", "delete"]


class Record(BaseModel):
    """What the state knows of one address."""

    model_config = STRICT
    type: str
    identity: str
    digest: str
    #: ``unknown``: a request was sent and its outcome never learned; ``deleted``: a
    #: tombstone, so that nothing is ever sent for this address again; ``gone``: deleted
    #: elsewhere (found by ``refresh``), published again only when asked.
    status: Literal["published", "unknown", "deleted", "gone"]
    result: dict[str, str] = Field(default_factory=dict)
    published_at: datetime | None = None
    attempted_at: datetime | None = None
    deleted_at: datetime | None = None
    #: For ``unknown``: the request fields as sent (ids filled in), to read the post back.
    sent: dict[str, Any] | None = None
    #: For ``unknown``: OneAll's clock minus the sender's, in seconds, when it was known:
    #: reading back compares times on OneAll's clock.
    clock_offset: float | None = None
    #: What was last sent, as rendered (references as ``{"ref": ADDRESS}``), secrets
    #: excluded: what plans show as "old" when the manifest renders differently.
    request: dict[str, Any] | None = None
    #: For ``unknown`` after ``--replace``: the record it replaced, restored if it was not sent.
    replaces: "Record | None" = None
    #: After ``--replace`` of a type OneAll can delete: the old post, online until its
    #: delete is confirmed.
    superseded: "Record | None" = None
    #: Adopted with ``pipeline import``: ``read`` back through the Pull API, or by its
    #: ``ids`` alone (no Pull resource lists it, so what it holds is not known).
    imported: Literal["read", "ids"] | None = None
    #: ``edited`` elsewhere, as ``refresh --write`` found it: ``request`` then holds what
    #: is online, so that the plan shows it old -> new.
    drift: Literal["edited"] | None = None


class State(BaseModel):
    """The state file: everything published through one site."""

    model_config = ConfigDict(extra="forbid")
    format_version: Literal[1] = FORMAT_VERSION
    #: Fixed when the state is first written; with ``serial`` it tells one history from
    #: another. Empty until then.
    lineage: str = ""
    serial: int = 0
    site: str
    resources: dict[str, Record] = Field(default_factory=dict)


# ---------------------------------------------------------------- journal events
#
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


def fold(state: State, event: Event) -> None:
    """Fold one event into ``state``: the one place that defines what events mean.

    Everything comes from the event itself, so replaying a journal twice (a crash
    between writing the snapshot and removing the journal) changes nothing.
    """
    resources = state.resources
    current = resources.get(event.address)
    if isinstance(event, Intent):
        if event.verb == "create":
            resources[event.address] = Record(
                type=event.type, identity=event.identity, digest=event.digest, status="unknown",
                attempted_at=_time(event.at), sent=event.sent, request=event.request,
                clock_offset=event.clock_offset,
                replaces=None if event.replaces is None else Record.model_validate(event.replaces))
        # An edit or a delete changes nothing until its outcome: sending either again
        # is harmless, so an unknown outcome simply leaves it pending in the next plan.
    elif isinstance(event, Published):
        superseded = _still_online(current.replaces if current else None)
        resources[event.address] = Record(
            type=event.type, identity=event.identity, digest=event.digest, status="published",
            result=event.result, published_at=_time(event.at), attempted_at=_time(event.attempted_at),
            request=event.request, superseded=superseded)
    elif isinstance(event, Edited):
        if current is not None:
            resources[event.address] = current.model_copy(update={
                "digest": event.digest, "request": event.request, "drift": None})
    elif isinstance(event, Deleted):
        if current is None:
            return
        if event.superseded:
            resources[event.address] = current.model_copy(update={"superseded": None})
        else:
            resources[event.address] = current.model_copy(update={
                "status": "deleted", "deleted_at": _time(event.at)})
    elif isinstance(event, Failed):
        if event.verb == "create" and current is not None and current.status == "unknown":
            _restore(state, event.address, current)
    elif isinstance(event, Resolved):
        if current is None:
            return
        if event.result is None:
            _restore(state, event.address, current)
        else:
            resources[event.address] = current.model_copy(update={
                "status": "published", "result": event.result, "sent": None,
                "published_at": current.published_at or _time(event.at),
                "replaces": None,
                "superseded": current.superseded or _still_online(current.replaces)})
    elif isinstance(event, Accepted):
        if current is not None:
            resources[event.address] = current.model_copy(update={
                "digest": event.digest, "request": event.request})
    elif isinstance(event, Imported):
        resources[event.address] = Record(
            type=event.type, identity=event.identity, digest=event.digest, status="published",
            result=event.result, published_at=_time(event.published_at or event.at),
            request=event.request, imported=event.how)
    elif isinstance(event, Drifted):
        if current is None or current.status != "published":
            return
        if event.drift == "deleted":
            resources[event.address] = current.model_copy(update={"status": "gone", "drift": None})
        else:
            resources[event.address] = current.model_copy(update={
                "drift": "edited", "request": event.request, "digest": event.digest or current.digest})
    elif isinstance(event, Moved):
        record = resources.pop(event.address, None)
        if record is not None:
            resources[event.to] = record
    elif isinstance(event, Forgotten):
        resources.pop(event.address, None)
    else:  # pragma: no cover - the union is closed
        raise AssertionError(event)


def _restore(state: State, address: str, current: Record) -> None:
    """Surely not published: as if the attempt never happened."""
    if current.replaces is not None:
        state.resources[address] = current.replaces
    else:
        state.resources.pop(address, None)


def _still_online(replaced: Record | None) -> Record | None:
    """The post a ``--replace`` superseded, if OneAll can delete it: apply deletes it
    next. One it cannot delete stays online, as the plan said."""
    if replaced is None or replaced.status != "published":
        return None
    endpoint = catalog.BY_TYPE.get(replaced.type)
    return replaced if endpoint is not None and endpoint.deletable else None


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
