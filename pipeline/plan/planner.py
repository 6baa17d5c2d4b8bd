"""The planner: a pure function of desired actions, state and the time.

It never reads a file, prints or calls the API; the same inputs always give the same
plan, in the same order.
"""

from __future__ import annotations

from datetime import datetime
from typing import AbstractSet

from pipeline.plan.graph import Graph
from pipeline import catalog
from pipeline.model.plan import Change, ChangeKind, Plan
from pipeline.model.state import Record, State


def plan(graph: Graph, state: State, now: datetime,
         replace: AbstractSet[str] = frozenset(), *, inputs_digest: str = "",
         changed: AbstractSet[str] | None = None, changed_since: str | None = None) -> Plan:
    """What apply would do for each address, in dependency order, orphans last."""
    changes: list[Change] = []
    kinds: dict[str, ChangeKind] = {}
    # Published posts whose address is in no manifest, by what they are: a desired
    # action that is exactly one of them is that post, moved, and is never sent again.
    # (An unknown one is matched too: its new address must wait for it to be settled.)
    gone: dict[tuple[str, str, str], list[str]] = {}
    for address in sorted(set(state.resources) - set(graph.actions)):
        rec = state.resources[address]
        gone.setdefault((rec.type, rec.identity, rec.digest), []).append(address)
    moved: set[str] = set()
    users: dict[str, list[str]] = {a: [] for a in graph.actions}
    for address, needs in graph.deps.items():
        for need in needs:
            users[need].append(address)

    def due_now(address: str) -> bool:
        """Will this address be sent by an apply now (as far as its own record and time go)?"""
        when = graph.actions[address].publish_at
        fresh = address not in state.resources or address in replace
        return fresh and (when is None or when <= now)

    for address in graph.order:
        action = graph.actions[address]
        record = state.resources.get(address)
        deps = graph.deps[address]
        kind: ChangeKind
        reason: str | None = None
        replacing = False
        moved_from = None
        candidates = gone.get((action.type, action.identity, action.digest)) if record is None else None
        if candidates and address not in replace and state.resources[candidates[0]].status == "unknown":
            # The same action, moved while its outcome was unknown: never sent again here.
            kind = "unknown"
            reason = (f"moved from {candidates[0]}, whose request's answer never came: apply reads it "
                      "back first, or settle it: pipeline state resolve")
            moved.add(candidates[0])
        elif candidates and address not in replace:
            moved_from = candidates.pop(0)
            moved.add(moved_from)
            record = state.resources[moved_from]
            kind, reason = "noop", f"moved from {moved_from}: the same post; apply records it under its new address"
            if _expired(action.type, record, now) and any(due_now(u) for u in users[address]):
                # Moved, and removed by the network meanwhile: uploaded again, under the new address.
                kind, replacing, moved_from = "create", True, None
                reason = "moved, and removed by the network, unattached, since; uploaded again"
        elif _expired(action.type, record, now) and any(due_now(u) for u in users[address]) \
                and address not in replace:
            # Twitter deleted the unattached upload: uploading it again publishes nothing.
            kind, replacing = "create", True
            reason = (f"uploaded {record.published_at:%Y-%m-%d %H:%M} and removed by the network, unattached, "  # type: ignore[union-attr]
                      f"since; uploaded again for {', '.join(u for u in users[address] if due_now(u))}")
        elif record is not None and record.status == "unknown":
            kind, reason = "unknown", ("a request was sent but its answer never came; apply reads "
                                       "it back first, or settle it: pipeline state resolve")
        elif record is not None and record.digest == action.digest and address not in replace:
            kind = "noop"
        elif record is not None and address not in replace:
            kind = "changed"
            reason = ("published, but the manifest now renders differently; the Push API "
                      "cannot edit a post: nothing is sent unless you --replace it")
        else:
            replacing = record is not None
            kind = "create"
            first_use = _first_use(action.type, [graph.actions[u].publish_at for u in users[address]])
            if action.publish_at is not None and action.publish_at > now:
                kind, reason = "wait", f"scheduled for {action.publish_at.isoformat()}"
            elif first_use is not None and first_use > now:
                # An upload the network deletes unless a post uses it soon goes up with
                # its first post, not months before it.
                kind, reason = "wait", (f"uploaded with its first post, at {first_use.isoformat()}: "
                                        "the network removes an unattached upload")
            else:
                blocking = [d for d in deps if kinds[d] in ("wait", "unknown")]
                if blocking:
                    kind = "wait"
                    reason = "waits for " + ", ".join(f"{d} ({kinds[d]})" for d in blocking)
        kinds[address] = kind
        changes.append(Change(
            kind=kind, address=address, type=action.type, identity=action.identity,
            request=action.request, depends_on=deps, digest=action.digest, reason=reason,
            publish_at=action.publish_at, replace=replacing, record=record,
            source=str(action.location), moved_from=moved_from,
            in_change=changed is not None and action.location.path in changed,
        ))
    for address in sorted(set(state.resources) - set(graph.actions) - moved):
        record = state.resources[address]
        changes.append(Change(
            kind="orphan", address=address, type=record.type, identity=record.identity,
            digest=record.digest, record=record,
            reason="in the state but in no manifest; the post stays online "
                   "(`pipeline state forget` drops it from the state)",
        ))
    return Plan(site=state.site, created_at=now, changes=tuple(changes),
                state_lineage=state.lineage, state_serial=state.serial,
                inputs_digest=inputs_digest, changed_since=changed_since)


def _expired(type_name: str, record: Record | None, now: datetime) -> bool:
    ttl = catalog.BY_TYPE[type_name].unattached_ttl
    return (ttl is not None and record is not None and record.status == "published"
            and record.published_at is not None and record.published_at + ttl < now)


def _first_use(type_name: str, times: list[datetime | None]) -> datetime | None:
    """When an upload with a time-to-live must go up: with the first post using it, if
    every one of them is scheduled; otherwise now (None)."""
    if catalog.BY_TYPE[type_name].unattached_ttl is None or not times or None in times:
        return None
    return min(t for t in times if t is not None)
