"""The state commands: show, forget, move, resolve, accept, unlock. None of them sends
anything; each changes the state through one journal event per address."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pipeline import catalog, clock
from pipeline.app.planning import make_plan
from pipeline.app.workspace import Loaded, Workspace
from pipeline.errors import Diagnostic, UserError
from pipeline.model.journal import Accepted, Event, Forgotten, Moved, Resolved
from pipeline.model.state import Record, State
from pipeline.redact import contains_secret


def show(workspace: Workspace) -> State:
    """The state as it stands, journal included."""
    return workspace.store().load()


Commit = Callable[[Event], None]


@contextmanager
def _editing(workspace: Workspace) -> Iterator[tuple[State, Commit]]:
    """The locked state, and a function that journals one event into it; saved at the end."""
    store = workspace.store()
    with store.locked():
        state = store.load_for_update()
        yield state, lambda event: store.commit(state, event)
        store.save(state)


def forget(workspace: Workspace, addresses: tuple[str, ...]) -> list[str]:
    """Drop addresses from the state (the posts stay online). Returns what was dropped."""
    with _editing(workspace) as (state, commit):
        missing = [a for a in addresses if a not in state.resources]
        if missing:
            raise UserError([Diagnostic(f"{a}: not in the state") for a in missing])
        for address in addresses:
            commit(Forgotten(address))
    return list(addresses)


def published_among(workspace: Workspace, addresses: tuple[str, ...]) -> list[str]:
    """Which of ``addresses`` the state records as published (forgetting one re-publishes it)."""
    resources = workspace.store().load().resources
    return [a for a in addresses if a in resources and resources[a].status == "published"]


def move(workspace: Workspace, source: str, target: str) -> None:
    """Record the post of ``source`` under ``target`` (``state mv``): nothing is sent."""
    with _editing(workspace) as (state, commit):
        if source not in state.resources:
            raise UserError(Diagnostic(f"{source}: not in the state"))
        if target in state.resources:
            raise UserError(Diagnostic(f"{target}: already in the state"))
        commit(Moved(source, to=target))


def resolve(workspace: Workspace, address: str, *, published_id: str | None,
            location: str | None = None) -> Record:
    """Settle an ``unknown`` address by the user's word: published with this id, or not."""
    with _editing(workspace) as (state, commit):
        record = state.resources.get(address)
        endpoint = catalog.BY_TYPE.get(record.type) if record else None
        # Unknown outcomes, and published actions whose answer held no id (an upload
        # that OneAll finishes later), are what a person may settle.
        if record is None or endpoint is None or not (
                record.status == "unknown" or
                (record.status == "published" and endpoint.id_field not in record.result)):
            what = "not in the state" if record is None else f"{record.status}, not unknown"
            raise UserError(Diagnostic(f"{address}: {what}", hint="only an unknown outcome can be resolved"))
        if record.status == "published" and published_id is None:
            raise UserError(Diagnostic(f"{address}: it was published; give its id with --published ID"))
        result = None
        if published_id is not None:
            result = {endpoint.id_field: published_id}
            if location and endpoint.location_field:
                result[endpoint.location_field] = location
        commit(Resolved(address, at=clock.stamp(), result=result))
        return state.resources.get(address) or record


def accept(loaded: Loaded, addresses: tuple[str, ...]) -> list[str]:
    """Record the current rendering of published addresses as what is online, sending
    nothing (a typo fix not worth a new post). Only ``changed`` and ``update`` qualify."""
    with _editing(loaded) as (state, commit):
        changes = {c.address: c for c in make_plan(loaded, state, clock.now(), frozenset()).changes
                   if not c.superseded}
        problems = []
        for address in addresses:
            change = changes.get(address)
            if change is None or change.kind not in ("changed", "update"):
                what = "in no manifest" if change is None else f"{change.kind}, not changed"
                problems.append(Diagnostic(f"{address}: {what}",
                                           hint="only a published post whose manifest renders differently "
                                                "can be accepted"))
        if problems:
            raise UserError(problems)
        for address in addresses:
            change = changes[address]
            commit(Accepted(address, digest=change.digest,
                            request=None if contains_secret(change.request) else change.request))
    return list(addresses)


def unlock(workspace: Workspace, lock_id: str) -> None:
    workspace.store().break_lock(lock_id)
