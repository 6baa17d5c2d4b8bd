"""Remembered plans: a plan of a repository where nothing changed is the same plan, and
a plan where a few files changed is that plan with those files' part planned again.

After every full ``plan``, two blobs in ``.pipeline/cache`` remember it:
- ``plan.marshal``: the summary (counts, and every change that is not an unchanged
  action), the key of everything it rests on, and until when it holds (a scheduled post
  coming due, an upload expiring);
- ``graph.marshal``: each manifest's digest and addresses, and each action's type,
  identity and references: enough to tell what a change can reach (``plan.delta``).

Only ``plan``'s text and Markdown use them; apply, saved plans and JSON plan in full.
The incremental plan is taken only on firm ground: the same context (code, config,
templates, media), the same state snapshot byte for byte (one the last full plan found
in canonical layout, so that ``apply.lookup`` reads its records) with no journal, no
problem anywhere, and no move possible; otherwise the plan is made in full.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace as dataclass_replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pipeline import catalog
from pipeline.app.workspace import Loaded, Workspace
from pipeline.apply import lookup
from pipeline.apply.store import serialized
from pipeline.errors import UserError
from pipeline.files import read_nofollow
from pipeline.load.blobs import read_blob, write_blob
from pipeline.load.cache import ResultCache, results_for
from pipeline.load.fingerprint import Fingerprint, known_digest
from pipeline.load.project import CONTENT_DIR, MANIFEST_SUFFIXES, PRIVATE_DIR, private_dir
from pipeline.model.plan import PLAN_FILE, Plan
from pipeline.model.state import Record, State
from pipeline.plan import delta, graph as graph_mod, planner
from pipeline.redact import contains_secret

_SUMMARY = Path("cache") / "plan.marshal"
_GRAPH = Path("cache") / "graph.marshal"
_FORMAT = 2
_TICK = timedelta(microseconds=1)
#: Beyond this many changed files, or actions reached, a full plan is as cheap.
_MOST_FILES, _MOST_ACTIONS = 200, 5000


def state_digests(workspace: Workspace) -> tuple[str | None, str | None]:
    """The digests of the state snapshot (streamed: it can be a hundred megabytes) and
    of its journal; None for a file that does not exist."""
    store = workspace.store()
    journal = read_nofollow(store.journal_path)
    snapshot = known_digest(workspace.project.root, str(store.path), lookup.digest)
    return snapshot, None if journal is None else hashlib.sha256(journal).hexdigest()


def _key(workspace: Workspace, prints: Fingerprint, state: tuple[str | None, str | None]) -> str:
    digest = hashlib.sha256(f"{_FORMAT}:{prints.key()}:{workspace.site.name}:".encode())
    for part in state:
        digest.update(b"-" if part is None else part.encode())
    return digest.hexdigest()


def _summary(workspace: Workspace) -> dict[str, Any] | None:
    blob = read_blob(workspace.project.root / PRIVATE_DIR / _SUMMARY)
    return blob if isinstance(blob, dict) and blob.get("format") == _FORMAT else None


def _plan_of(blob: dict[str, Any], now: datetime) -> Plan | None:
    until = blob.get("valid_until")
    if until is not None and now >= datetime.fromisoformat(until):
        return None  # a scheduled post came due, or an upload expired
    try:
        return dataclass_replace(PLAN_FILE.validate_python(blob["plan"]), created_at=now)
    except (ValidationError, KeyError, TypeError):
        return None


def remembered_plan(workspace: Workspace, prints: Fingerprint, now: datetime) -> Plan | None:
    """The summary of the last plan, if nothing it rests on has changed since."""
    blob = _summary(workspace)
    if blob is None or blob.get("key") != _key(workspace, prints, state_digests(workspace)):
        return None
    return _plan_of(blob, now)


def from_memory(workspace: Workspace, prints: Fingerprint, now: datetime,
                state: tuple[str | None, str | None] | None = None, *, in_part: bool = False) -> Plan | None:
    """The remembered plan if nothing changed, else the incremental plan if it can be
    made, else None (plan in full). ``state``: the state's digests, if already taken.
    ``in_part``: for an apply that will read records straight from the snapshot, which
    must then be known canonical, even when nothing changed."""
    blob = _summary(workspace)
    if blob is None or (in_part and not blob.get("canonical")):
        return None
    state = state or state_digests(workspace)
    if blob.get("key") == _key(workspace, prints, state):
        return _plan_of(blob, now)
    return _incremental(workspace, prints, now, blob, state)


def plan_and_remember(loaded: Loaded, prints: Fingerprint, now: datetime, the_plan: Plan, state: State,
                      snapshot: bytes | None, journal: bytes | None) -> None:
    """Remember a full plan of ``loaded`` against ``state`` (read from ``snapshot`` and
    ``journal``) for the next runs."""
    listed = tuple(c for c in the_plan.changes if c.kind != "noop" or c.moved_from)
    summary = dataclass_replace(the_plan, changes=listed, noop_omitted=len(the_plan.changes) - len(listed))
    # Every schedule in the graph, not only the waiting rows': a post blocked by its
    # picture turns overdue, and an upload waits for a user that is no "wait" row itself
    # (a tombstone, a published post) to come due.
    scheduled = [a.publish_at for a in loaded.graph.actions.values() if a.publish_at is not None]
    # Overdue and expired hold strictly after their instant (the planner's ``<``): the
    # plan changes one tick (a microsecond) later; a scheduled post is due at its instant.
    after = timedelta(seconds=loaded.project.config.late_after, microseconds=1)
    times = [t for t in scheduled if t > now] + [t + after for t in scheduled if t + after > now]
    for record in state.resources.values():
        ttl = catalog.BY_TYPE[record.type].unattached_ttl if record.type in catalog.BY_TYPE else None
        if ttl and record.published_at and record.published_at + ttl + _TICK > now:
            times.append(record.published_at + ttl + _TICK)
    if contains_secret([c.request for c in listed]):
        return  # a secret is never written down
    root = loaded.project.root
    private_dir(root)
    digests = (None if snapshot is None else hashlib.sha256(snapshot).hexdigest(),
               None if journal is None else hashlib.sha256(journal).hexdigest())
    keys = delta.order_keys(loaded.graph)
    key = _key(loaded, prints, digests)
    write_blob(root / PRIVATE_DIR / _SUMMARY, {
        "format": _FORMAT, "key": key, "context": prints.context,
        "site": loaded.site.name, "state": digests[0],
        # Verified once here, so that the next plans may read records straight from it.
        "canonical": journal is None and (snapshot is None or lookup.canonical(root, snapshot, lambda: serialized(state))),
        "valid_until": min(times).isoformat() if times else None,
        "plan": PLAN_FILE.dump_python(summary, mode="json"),
        "keys": {c.address: keys[c.address] for c in listed if delta.is_row_of_action(c)},
    })
    files: dict[str, list[str]] = {shown: [] for shown in prints.digests}
    for address, action in loaded.graph.actions.items():
        files.setdefault(action.location.path, []).append(address)
    # References both ways, kept only where there are some: most actions have none.
    # The plan's key: two blobs are not written at once, and a plan beside the graph of
    # another run (two runs at once, or one stopped between them) is no base.
    write_blob(root / PRIVATE_DIR / _GRAPH, {
        "format": _FORMAT, "context": prints.context, "key": key,
        "files": {shown: (prints.digests.get(shown, ""), tuple(a)) for shown, a in files.items()},
        "deps": {a: d for a, d in loaded.graph.deps.items() if d},
        "users": {a: tuple(u) for a, u in loaded.graph.users.items() if u}})


def _file_of(address: str, files: dict[str, tuple[str, tuple[str, ...]]]) -> str | None:
    """The manifest that defined ``address`` in the remembered graph (its prefix names it)."""
    prefix = f"{CONTENT_DIR}/{address.rsplit('/', 1)[0]}"
    for suffix in MANIFEST_SUFFIXES:
        entry = files.get(prefix + suffix)
        if entry is not None and address in entry[1]:
            return prefix + suffix
    return None


def incremental_plan(workspace: Workspace, prints: Fingerprint, now: datetime) -> Plan | None:
    """The last plan with the changed files' part planned again, or None where a full
    plan is needed (see the module's docstring)."""
    blob = _summary(workspace)
    return None if blob is None else _incremental(workspace, prints, now, blob, state_digests(workspace))


def _incremental(workspace: Workspace, prints: Fingerprint, now: datetime, blob: dict[str, Any],
                 state: tuple[str | None, str | None]) -> Plan | None:
    if blob.get("context") != prints.context or blob.get("site") != workspace.site.name \
            or not blob.get("canonical") or prints.problems or state != (blob.get("state"), None):
        return None
    base = _plan_of(blob, now)
    known = read_blob(workspace.project.root / PRIVATE_DIR / _GRAPH)
    if base is None or not isinstance(known, dict) or known.get("context") != prints.context \
            or known.get("key") != blob.get("key"):
        return None
    files: dict[str, tuple[str, tuple[str, ...]]] = known["files"]
    changed = [s for s, d in prints.digests.items() if files.get(s, ("",))[0] != d]
    removed = [s for s in files if s not in prints.digests]
    if len(changed) + len(removed) > _MOST_FILES:
        return None
    cache = ResultCache(workspace.project.root, prints.context)
    fresh = results_for(workspace.project, prints, changed, cache)
    cache.flush()
    if any(r.problems or r.broken for r in fresh.values()):
        return None  # the full plan reports every problem, at its line
    new = {a.address: a for r in fresh.values() for a in r.actions}
    old = {a for s in (*changed, *removed) if s in files for a in files[s][1]}
    if len(new) < sum(len(r.actions) for r in fresh.values()) \
            or any(a not in old and _file_of(a, files) is not None for a in new):
        return None  # an address defined twice
    reached = delta.region([*new, *old], known["deps"], known["users"], new, _MOST_ACTIONS)
    if reached is None:
        return None
    # The unchanged actions the change reaches, from the compile cache.
    where = {a: _file_of(a, files) for a in reached if a not in old}
    others = sorted({shown for shown in where.values() if shown is not None})
    kept = results_for(workspace.project, prints, others, cache)
    if any(r.problems for r in kept.values()):
        return None
    cache.flush()
    actions = [*new.values(), *(a for r in kept.values() for a in r.actions if a.address in reached)]
    try:
        part_graph = graph_mod.build(actions)
    except UserError:
        return None
    in_base = old | {a for a, shown in where.items() if shown is not None}
    return _replan(workspace, blob, base, part_graph, reached | old, in_base, now)


def _replan(workspace: Workspace, blob: dict[str, Any], base: Plan, part_graph: graph_mod.Graph,
            replanned: set[str], in_base: set[str], now: datetime) -> Plan | None:
    """Plan the part of the graph the change reaches, against the records it needs, and
    merge it into the base plan."""
    # A post moved while its outcome was unknown: its row holds no record, nor says
    # which one it is matched to, and the part would plan it, or its twin, anew.
    if any(c.kind == "unknown" and c.record is None for c in base.changes):
        return None
    found = lookup.records(str(workspace.store().path), replanned)
    if found is None:
        return None
    listed_actions = {c.address for c in base.changes if delta.is_row_of_action(c)}
    gone: dict[str, Record] = {}
    for change in base.changes:
        if change.kind == "orphan" and change.record is not None:
            gone[change.address] = change.record
        elif change.moved_from and change.address in replanned and change.record is not None:
            gone[change.moved_from] = change.record
    gone.update({a: r for a, r in found.items() if a not in part_graph.actions})
    # A move is matched to a record anywhere in the plan: never planned in part.
    wanting = {(a.type, a.identity, a.digest) for a in part_graph.actions.values() if a.address not in found}
    wanting |= {(c.type, c.identity, c.digest) for c in base.changes
                if delta.is_row_of_action(c) and c.address not in replanned and c.record is None}
    claimed = {c.moved_from: c.record for c in base.changes
               if c.moved_from and c.address not in replanned and c.record is not None}
    if any((r.type, r.identity, r.digest) in wanting for r in [*gone.values(), *claimed.values()]) \
            or set(claimed) & set(part_graph.actions):
        return None
    state = State(site=base.site, lineage=base.state_lineage, serial=base.state_serial,
                  resources={**gone, **found})
    part = planner.plan(part_graph, state, now,
                        late_after=timedelta(seconds=workspace.project.config.late_after))
    omitted = sum(1 for a in replanned if a in in_base and a not in listed_actions)
    keys: dict[str, delta.Key] = {a: (k[0], k[1]) for a, k in blob["keys"].items()}
    return dataclass_replace(delta.merge(base, keys, part, delta.order_keys(part_graph), replanned, omitted),
                             created_at=now)
