"""The planner: a pure function of desired actions, state and the time.

It never reads a file, prints or calls the API; the same inputs always give the same
plan, in the same order.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import AbstractSet, Any, Mapping

from pipeline.plan.graph import Graph
from pipeline import catalog
from pipeline.model.plan import Change, ChangeKind, FieldDiff, Plan
from pipeline.model.state import Record, State


def plan(graph: Graph, state: State, now: datetime,
         replace: AbstractSet[str] = frozenset(), *, inputs_digest: str = "",
         changed: AbstractSet[str] | None = None, changed_since: str | None = None,
         late_after: timedelta | None = None, publish_overdue: AbstractSet[str] = frozenset()) -> Plan:
    """What apply would do for each address, in dependency order, orphans last.

    ``changed``: the addresses whose rendering the change since ``changed_since`` adds,
    changes or removes (marked ``in_change``). A post scheduled more than ``late_after``
    ago and never published is ``overdue``, unless its address is in ``publish_overdue``."""
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
    users = graph.users

    def due_now(address: str) -> bool:
        """Will this address be sent by an apply now (as far as its own record and time go)?"""
        when = graph.actions[address].publish_at
        fresh = address not in state.resources or address in replace
        return fresh and (when is None or when <= now)

    def blocked(deps: tuple[str, ...]) -> str | None:
        blocking = [d for d in deps if kinds[d] in ("wait", "unknown", "overdue")]
        return "waits for " + ", ".join(f"{d} ({kinds[d]})" for d in blocking) if blocking else None

    for address in graph.order:
        action = graph.actions[address]
        endpoint = catalog.BY_TYPE[action.type]
        record = state.resources.get(address)
        deps = graph.deps[address]
        kind: ChangeKind
        reason: str | None = None
        replacing = False
        moved_from = None
        diff: tuple[FieldDiff, ...] = ()
        asked = address in replace
        candidates = gone.get((action.type, action.identity, action.digest)) if record is None else None
        if candidates and not asked and state.resources[candidates[0]].status == "unknown":
            # The same action, moved while its outcome was unknown: never sent again here.
            kind = "unknown"
            reason = (f"moved from {candidates[0]}, whose request's answer never came: apply reads it "
                      "back first, or settle it: pipeline state resolve")
            moved.add(candidates[0])
        elif candidates and not asked:
            moved_from = candidates.pop(0)
            moved.add(moved_from)
            record = state.resources[moved_from]
            kind, reason = "noop", f"moved from {moved_from}: the same post; apply records it under its new address"
            if _expired(action.type, record, now) and any(due_now(u) for u in users[address]):
                # Moved, and removed by the network meanwhile: uploaded again, under the new address.
                kind, replacing, moved_from = "create", True, None
                reason = "moved, and removed by the network, unattached, since; uploaded again"
        elif _expired(action.type, record, now) and any(due_now(u) for u in users[address]) \
                and not asked and not action.deleted:
            # Twitter deleted the unattached upload: uploading it again publishes nothing.
            kind, replacing = "create", True
            reason = (f"uploaded {record.published_at:%Y-%m-%d %H:%M} and removed by the network, unattached, "  # type: ignore[union-attr]
                      f"since; uploaded again for {', '.join(sorted(u for u in users[address] if due_now(u)))}")
        elif record is not None and record.status == "unknown":
            kind, reason = "unknown", ("a request was sent but its answer never came; apply reads "
                                       "it back first, or settle it: pipeline state resolve")
        elif record is not None and record.status == "gone" and not asked:
            kind, reason = "noop", (f"deleted elsewhere (found by refresh): `--replace {address}` "
                                    "publishes it again; nothing is sent by itself")
        elif record is not None and record.status == "deleted" and (action.deleted or not asked):
            # A tombstone: whatever the manifest says now, nothing is published again by itself.
            when = f" on {record.deleted_at:%Y-%m-%d}" if record.deleted_at else ""
            kind, reason = "noop", (f"deleted{when}" + ("" if action.deleted else
                                    "; never published again unless you --replace it"))
        elif action.deleted:
            kind = "delete" if record is not None else "noop"
            reason = None if record is not None else "marked deleted and never published: nothing to do"
        elif record is not None and record.digest == action.digest and not asked:
            kind = "noop"
            if record.imported == "ids":
                reason = ("imported by its ids alone: OneAll lists no such post, so what it holds "
                          "could not be read back")
        elif record is not None and not asked:
            fields = _changed_fields(record.request, action.request)
            moved_account = record.identity != action.identity or record.type != action.type
            diff = tuple(FieldDiff(name, (record.request or {}).get(name), action.request.get(name))
                         for name in sorted(fields or ()))
            if fields is not None and not moved_account and endpoint.can_edit(fields):
                kind = "update"
                reason = blocked(deps)
                if reason:
                    kind = "wait"
            else:
                kind, reason = "changed", _why_changed(endpoint, address, fields, moved_account)
        else:
            replacing = record is not None and record.status not in ("deleted", "gone")
            kind = "create"
            if replacing:
                reason = ("published before: publishes it anew, then deletes the old post"
                          if endpoint.deletable else
                          f"published before: publishes it anew; the old post stays online "
                          f"(OneAll cannot delete a {action.type})")
            first_use = _first_use(action.type, [graph.actions[u].publish_at for u in users[address]])
            if action.publish_at is not None and action.publish_at > now:
                kind, reason = "wait", f"scheduled for {action.publish_at.isoformat()}"
            elif (late_after is not None and action.publish_at is not None and not replacing
                  and action.publish_at + late_after < now and address not in publish_overdue):
                kind, reason = "overdue", (f"scheduled for {action.publish_at.isoformat()}, more than "
                                           f"{late_after} ago (late_after): not published unless you "
                                           f"--publish-overdue {address}")
            elif first_use is not None and first_use > now:
                # An upload the network deletes unless a post uses it soon goes up with
                # its first post, not months before it.
                kind, reason = "wait", (f"uploaded with its first post, at {first_use.isoformat()}: "
                                        "the network removes an unattached upload")
            elif blocked(deps):
                kind, reason = "wait", blocked(deps)
        kinds[address] = kind
        changes.append(Change(
            kind=kind, address=address, type=action.type, identity=action.identity,
            request=action.request, depends_on=deps if kind != "delete" else (), digest=action.digest,
            reason=reason, publish_at=action.publish_at, replace=replacing, record=record,
            source=str(action.location), moved_from=moved_from,
            in_change=changed is not None and address in changed, diff=diff,
        ))
    for address, record in sorted(state.resources.items()):
        old = record.superseded
        if old is not None and record.status == "published":
            # A --replace published the new post; deleting the old one is still to do.
            changes.append(Change(
                kind="delete", address=address, type=old.type, identity=old.identity,
                request=old.request or {}, digest=old.digest, record=old, superseded=True,
                reason="the post it replaced is still online: apply deletes it",
                source=str(graph.actions[address].location) if address in graph.actions else None,
                in_change=changed is not None and address in changed))
    for address in sorted(set(state.resources) - set(graph.actions) - moved):
        record = state.resources[address]
        changes.append(Change(
            kind="orphan", address=address, type=record.type, identity=record.identity,
            digest=record.digest, record=record, reason=_why_orphan(record),
            in_change=changed is not None and address in changed,
        ))
    return Plan(site=state.site, created_at=now, changes=tuple(changes),
                state_lineage=state.lineage, state_serial=state.serial,
                inputs_digest=inputs_digest, changed_since=changed_since)


def _changed_fields(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> set[str] | None:
    """The request fields whose rendering changed; None when the old one is not known."""
    if old is None:
        return None
    return {name for name in set(old) | set(new) if old.get(name) != new.get(name)}


def _why_changed(endpoint: catalog.Endpoint, address: str, fields: set[str] | None,
                 moved_account: bool = False) -> str:
    what = f"{', '.join(sorted(fields))} changed" if fields else "the manifest renders differently"
    if moved_account:
        what, cannot = "its account or type changed", "OneAll cannot move a post to another account"
    elif not endpoint.editable:
        cannot = f"OneAll cannot edit a {endpoint.type}"
    elif fields is None:
        cannot = "what was sent before is not recorded, so it cannot be edited field by field"
    else:
        assert endpoint.update is not None
        cannot = f"OneAll can edit only {', '.join(endpoint.update.editable)} of a {endpoint.type}"
    after = "then deletes the old one" if endpoint.deletable else "the old one stays online"
    return (f"{what}, but {cannot}: nothing is sent unless you `--replace {address}` "
            f"(publishes it anew, {after}) or `pipeline state accept {address}` "
            "(records this rendering as what is online, sends nothing)")


def _why_orphan(record: Record) -> str:
    if record.status == "gone":
        return "deleted elsewhere, and in no manifest (`pipeline state forget` drops it)"
    if record.status == "deleted":
        return "deleted, and in no manifest any more (`pipeline state forget` drops the tombstone)"
    how = ("to delete it, put its action back with `deleted: true`; "
           if catalog.BY_TYPE[record.type].deletable else "")
    return ("in the state but in no manifest; the post stays online (" + how +
            "`pipeline state forget` drops it from the state)")


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
