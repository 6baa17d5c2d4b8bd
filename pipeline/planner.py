"""The planner: a pure function of desired actions, state and the time.

It never reads a file, prints or calls the API; the same inputs always give the same
plan, in the same order.
"""

from __future__ import annotations

from datetime import datetime
from typing import AbstractSet

from .graph import Graph
from .models import Change, ChangeKind, Plan, State


def plan(graph: Graph, state: State, now: datetime,
         replace: AbstractSet[str] = frozenset()) -> Plan:
    """What apply would do for each address, in dependency order, orphans last."""
    changes: list[Change] = []
    kinds: dict[str, ChangeKind] = {}
    # Published posts whose address is in no manifest, by what they are: a desired
    # action that is exactly one of them is that post, moved, and is never sent again.
    gone: dict[tuple[str, str, str], list[str]] = {}
    for address in sorted(set(state.resources) - set(graph.actions)):
        rec = state.resources[address]
        if rec.status == "published":
            gone.setdefault((rec.type, rec.identity, rec.digest), []).append(address)
    moved: set[str] = set()
    for address in graph.order:
        action = graph.actions[address]
        record = state.resources.get(address)
        deps = graph.deps[address]
        kind: ChangeKind
        reason: str | None = None
        replacing = False
        moved_from = None
        candidates = gone.get((action.type, action.identity, action.digest)) if record is None else None
        if candidates and address not in replace:
            moved_from = candidates.pop(0)
            moved.add(moved_from)
            record = state.resources[moved_from]
            kind, reason = "noop", f"moved from {moved_from}: the same post; apply records it under its new address"
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
            if action.publish_at is not None and action.publish_at > now:
                kind, reason = "wait", f"scheduled for {action.publish_at.isoformat()}"
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
        ))
    for address in sorted(set(state.resources) - set(graph.actions) - moved):
        record = state.resources[address]
        changes.append(Change(
            kind="orphan", address=address, type=record.type, identity=record.identity,
            digest=record.digest, record=record,
            reason="in the state but in no manifest; the post stays online "
                   "(`pipeline state forget` drops it from the state)",
        ))
    return Plan(site=state.site, created_at=now, changes=tuple(changes))
