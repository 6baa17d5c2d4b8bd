"""Adopting posts made elsewhere (``import``) and finding drift (``refresh``).

Both read through the Pull API and send nothing. An imported post is recorded as
published with what it holds online, so that the next plan shows, old -> new, whatever
its manifest would change; a refresh compares what was last sent with what is online.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pipeline import catalog, clock
from pipeline.app.workspace import Loaded, Workspace
from pipeline.apply import site as site_mod
from pipeline.apply.readback import Drift, Paced, check, differences, entry_result, find, online_request
from pipeline.errors import Diagnostic, IncompleteListing, UserError
from pipeline.model.action import request_digest
from pipeline.model.journal import Drifted, Imported
from pipeline.model.state import State
from pipeline.oneall.pull import Reader


@contextmanager
def _reader(workspace: Workspace) -> Iterator[Reader]:
    """A paced Pull reader for the workspace's site (the sandbox is served meanwhile)."""
    with site_mod.publisher(workspace.site, workspace.project) as client:
        yield Paced(client)


def _prefix(address: str) -> str:
    """The manifest part of an address (what references count relative to)."""
    return address.rsplit("/", 1)[0]


def resolved(request: dict[str, Any], state: State) -> dict[str, Any] | None:
    """``request`` with each reference replaced by the recorded id of what it names;
    None when one of them is not recorded yet."""
    out: dict[str, Any] = {}
    for name, value in request.items():
        if isinstance(value, dict) and "ref" in value:
            target = state.resources.get(value["ref"])
            if target is None or target.status != "published":
                return None
            value = target.result.get(catalog.BY_TYPE[target.type].id_field)
        out[name] = value
    return out


@dataclass(frozen=True)
class Adopted:
    address: str
    how: str  # "read" or "ids"
    result: dict[str, str]
    differs: bool  # the manifest renders something other than what is online


def import_one(loaded: Loaded, address: str, post_id: str) -> Adopted:
    """Record the post ``post_id``, made elsewhere, as what ``address`` published."""
    action = loaded.graph.actions.get(address)
    if action is None:
        raise UserError(Diagnostic(f"{address}: no manifest defines this address",
                                   hint="write its manifest first, then import the post into it"))
    endpoint = action.endpoint
    store = loaded.store()
    with store.locked():
        state = store.load_for_update()
        if address in state.resources:
            raise UserError(Diagnostic(f"{address}: already in the state ({state.resources[address].status})",
                                       hint="`pipeline state forget` it first, to adopt another post"))
        claimed = {(r.type, r.result.get(endpoint.id_field)) for r in state.resources.values()}
        if (action.type, post_id) in claimed:
            raise UserError(Diagnostic(f"{action.type} {post_id} is already recorded under another address"))
        if endpoint.pull is None:
            # No Pull resource lists it: adopted on the user's word, by its ids alone.
            event = Imported(address, type=action.type, identity=action.identity, digest=action.digest,
                             result={endpoint.id_field: post_id}, at=clock.stamp(), how="ids",
                             request=action.request)
            store.commit(state, event)
            store.save(state)
            return Adopted(address, "ids", event.result, False)
        values = resolved(action.request, state)
        if values is None:
            raise UserError(Diagnostic(f"{address}: it references a post that is not recorded",
                                       hint="import what it references first"))
        resource = endpoint.pull_path(action.token, values)
        assert resource is not None
        with _reader(loaded) as reader:
            try:
                entry = find(reader, endpoint, resource, post_id)
            except IncompleteListing as exc:
                raise UserError(Diagnostic(f"{address}: {post_id} could not be looked up: {exc}")) from None
        if entry is None:
            raise UserError(Diagnostic(
                f"{address}: no {action.type} {post_id} is listed for {action.identity}",
                hint="check the id, and that the post belongs to this account and type"))
        online = online_request(endpoint, entry, action.request)
        # What the network rewrote (links, white space) is the same post: no change.
        same = not differences(endpoint, action.request, online)
        if same:
            online = action.request
        digest = action.digest if same else request_digest(action.type, action.token, online, _prefix(address))
        event = Imported(address, type=action.type, identity=action.identity, digest=digest,
                         result=entry_result(endpoint, entry), at=clock.stamp(), how="read", request=online,
                         published_at=clock.stamp(entry.date) if entry.date else None)
        store.commit(state, event)
        store.save(state)
    return Adopted(address, "read", event.result, not same)


def refresh(workspace: Workspace, *, write: bool = False) -> list[Drift]:
    """Read back every recorded post a Pull resource lists; with ``write``, record what
    was deleted or edited elsewhere (nothing is ever sent)."""
    store = workspace.store()
    with store.locked():
        state = store.load_for_update()
        with _reader(workspace) as reader:
            found = check(state, reader, workspace.tokens)
        if write and any(d.kind in ("deleted", "edited") for d in found):
            for drift in found:
                if drift.kind == "deleted":
                    store.commit(state, Drifted(drift.address, drift="deleted", at=clock.stamp()))
                elif drift.kind == "edited":
                    record = state.resources[drift.address]
                    digest = request_digest(record.type, workspace.tokens[record.identity],
                                            dict(drift.online), _prefix(drift.address))
                    store.commit(state, Drifted(drift.address, drift="edited", at=clock.stamp(),
                                                digest=digest, request=dict(drift.online)))
            store.save(state)
    return found
