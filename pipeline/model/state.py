"""The state as a model: what has been published, per address, and ``fold``, the one
place that says what each journal event (``model.journal``) does to it. The snapshot is
the sum of the events."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline import catalog
from pipeline.model.config import STRICT
from pipeline.model.journal import (Accepted, Deleted, Drifted, Edited, Event, Failed, Forgotten, Imported,
                                    Intent, Moved, Published, Resolved)

FORMAT_VERSION: Literal[1] = 1

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
