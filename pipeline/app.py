"""Use cases: what each command does, with no printing (the CLI renders the results)."""

from __future__ import annotations

import hashlib
from contextlib import nullcontext
from dataclasses import dataclass
from dataclasses import replace as dataclass_replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Mapping

from pydantic import ValidationError

from pipeline.plan import graph as graph_mod
from pipeline import git
from pipeline.plan import planner
from pipeline.apply import site as site_mod
from pipeline.errors import Diagnostic, UserError
from pipeline.apply.executor import ApplyResult, Event, Executor
from pipeline.plan.graph import Graph
from pipeline.load.cache import Fingerprint, compile_project, read_blob, write_blob
from pipeline import catalog
from pipeline.model.plan import PLAN_FILE, Change, Plan
from pipeline.model.state import Record, State
from pipeline.redact import contains_secret
from pipeline.apply.settle import Settled, settle
from pipeline.load.project import CONFIG_FILE, PRIVATE_DIR, Project, find_root, load_project, private_dir
from pipeline.apply.store import StateStore, apply_event


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Workspace:
    """A project and the site its runs go to; enough for the state commands."""

    project: Project
    site: site_mod.Site

    @property
    def tokens(self) -> dict[str, str]:
        """Each identity's OneAll token, by its name in pipeline.yaml."""
        return {name: ident.token for name, ident in self.project.config.identities.items()}

    def store(self) -> StateStore:
        return StateStore(self.site.state_path, self.site.name,
                          shown=self.project.shown(self.site.state_path))


@dataclass(frozen=True)
class Loaded(Workspace):
    """A validated project: its manifests rendered into a graph of actions."""

    graph: Graph


def open_workspace(start: Path, env: Mapping[str, str] | None = None) -> Workspace:
    """Find and read ``pipeline.yaml`` and resolve the site; manifests are not read."""
    project = load_project(find_root(start), env)
    return Workspace(project, site_mod.resolve(project, env))


def load(start: Path, env: Mapping[str, str] | None = None, *, use_cache: bool = True) -> Loaded:
    """Load, validate and render everything; every problem is raised at once."""
    return load_workspace(open_workspace(start, env), use_cache=use_cache)


def load_workspace(workspace: Workspace, *, use_cache: bool = True,
                   prints: Fingerprint | None = None) -> Loaded:
    """``load`` for a workspace already open (and maybe its files already hashed)."""
    compiled = compile_project(workspace.project, use_cache=use_cache, prints=prints)
    graph = graph_mod.build(compiled.actions, compiled.problems, compiled.broken)
    return Loaded(workspace.project, workspace.site, graph)


def make_plan(loaded: Loaded, state: State, now: datetime, replace: frozenset[str], *,
              inputs: str = "", changed_since: str | None = None) -> Plan:
    unknown = sorted(replace - set(loaded.graph.actions))
    if unknown:
        raise UserError([Diagnostic(f"--replace {a}: no manifest defines this address") for a in unknown])
    changed = None
    if changed_since is not None:
        changed = git.changed_files(loaded.project.root, changed_since)
        if CONFIG_FILE in changed:  # the config touches every action
            changed |= {a.location.path for a in loaded.graph.actions.values()}
    return planner.plan(loaded.graph, state, now, replace, inputs_digest=inputs,
                        changed=changed, changed_since=changed_since)


def plan(loaded: Loaded, *, now: datetime | None = None, replace: frozenset[str] = frozenset(),
         changed_since: str | None = None, saving: bool = False) -> Plan:
    """What apply would do now. Reads the state without locking it. A plan to be saved
    carries the digest of its inputs, so that applying it can refuse a stale one."""
    inputs = inputs_digest(loaded) if saving else ""
    return make_plan(loaded, loaded.store().load(), now or now_utc(), replace, inputs=inputs,
                     changed_since=changed_since)


# ---------------------------------------------------------------- remembered plans
#
# A plan of a repository where nothing changed is the same plan: same manifests, same
# templates and config, same state, and no schedule or upload expiry passed since. Its
# summary (counts, and the changes that are not unchanged) is remembered in
# .pipeline/cache, so that a plan on every push costs a hash of the files, not a
# compile and a planning of every action. Only `plan`'s text and Markdown use it;
# apply, saved plans and JSON always plan in full.

_SUMMARY = Path("cache") / "plan.marshal"


def _summary_key(workspace: Workspace, prints: Fingerprint) -> str:
    store = workspace.store()
    digest = hashlib.sha256(f"{prints.key()}:{workspace.site.name}:".encode())
    for path in (store.path, store.journal_path):
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except FileNotFoundError:
            digest.update(b"-")
    return digest.hexdigest()


def remembered_plan(workspace: Workspace, prints: Fingerprint, now: datetime) -> Plan | None:
    """The summary of the last plan, if nothing it rests on has changed since."""
    blob = read_blob(workspace.project.root / PRIVATE_DIR / _SUMMARY)
    if not isinstance(blob, dict) or blob.get("key") != _summary_key(workspace, prints):
        return None
    until = blob.get("valid_until")
    if until is not None and now >= datetime.fromisoformat(until):
        return None  # a scheduled post came due, or an upload expired
    try:
        summary = PLAN_FILE.validate_python(blob["plan"])
    except (ValidationError, KeyError, TypeError):
        return None
    return dataclass_replace(summary, created_at=now)


def plan_and_remember(loaded: Loaded, prints: Fingerprint, now: datetime | None = None) -> Plan:
    """A full plan, whose summary is remembered for the next run."""
    now = now or now_utc()
    state = loaded.store().load()
    the_plan = make_plan(loaded, state, now, frozenset())
    listed = tuple(c for c in the_plan.changes if c.kind != "noop" or c.moved_from)
    summary = dataclass_replace(the_plan, changes=listed,
                                noop_omitted=len(the_plan.changes) - len(listed))
    times = [c.publish_at for c in the_plan.changes if c.kind == "wait" and c.publish_at and c.publish_at > now]
    for record in state.resources.values():
        ttl = catalog.BY_TYPE[record.type].unattached_ttl if record.type in catalog.BY_TYPE else None
        if ttl and record.published_at and record.published_at + ttl > now:
            times.append(record.published_at + ttl)
    if contains_secret([c.request for c in listed]):
        return the_plan  # a secret is never written down
    private_dir(loaded.project.root)
    write_blob(loaded.project.root / PRIVATE_DIR / _SUMMARY, {
        "key": _summary_key(loaded, prints),
        "valid_until": min(times).isoformat() if times else None,
        "plan": PLAN_FILE.dump_python(summary, mode="json"),
    })
    return the_plan


def inputs_digest(loaded: Loaded) -> str:
    """A digest of everything a plan is made from: pipeline.yaml, every file under
    content/ (manifests, templates, media), the configuration in force and the site."""
    project = loaded.project
    digest = hashlib.sha256()
    digest.update(project.config.model_dump_json().encode())
    digest.update(b"\0" + loaded.site.name.encode() + b"\0")
    manifests, others = project.scan()  # symlinked folders included, as Jinja reads them
    for shown in [CONFIG_FILE, *sorted(manifests + others)]:
        digest.update(shown.encode() + b"\0")
        digest.update(hashlib.sha256((project.root / shown).read_bytes()).digest())
    return "sha256:" + digest.hexdigest()


def apply_saved(loaded: Loaded, saved: Plan, *, on_event: Callable[[Event], None] = lambda e: None,
                announce: Callable[[Plan], None] = lambda plan: None,
                parallelism: int = 8, lock_timeout: float = 0.0) -> Applied:
    """Carry out exactly the changes of a reviewed plan, or refuse if it has gone stale.

    The file is not trusted for what it says to send: the plan is made again from the
    manifests and the locked state, and every change to carry out must be the same in
    both (kind, type, identity, digest, request); what is sent is the fresh rendering.
    """
    if saved.site != loaded.site.name:
        raise UserError(Diagnostic(f"the plan was made against site {saved.site!r}, "
                                   f"but this run's site is {loaded.site.name!r}"))
    if not saved.inputs_digest:
        raise UserError(Diagnostic("this plan was not saved with `pipeline plan --out`"))
    store = loaded.store()
    tokens = loaded.tokens
    with store.locked(timeout=lock_timeout):
        state = store.load_for_update()
        if (state.lineage, state.serial) != (saved.state_lineage, saved.state_serial):
            raise UserError(Diagnostic(
                f"the state changed since the plan was made (serial {saved.state_serial} -> "
                f"{state.serial}{', another lineage' if state.lineage != saved.state_lineage else ''})",
                hint="make a new plan"))
        if inputs_digest(loaded) != saved.inputs_digest:
            raise UserError(Diagnostic(
                "manifests, templates or configuration changed since the plan was made",
                hint="make a new plan"))
        verified = _verified(loaded, state, saved)
        announce(verified)
        saved = verified
        moved: list[tuple[str, str]] = []
        result: ApplyResult | None = None
        try:
            for change in saved.moves:
                assert change.moved_from is not None
                _journal(store, state, {"op": "move", "address": change.moved_from, "to": change.address})
                moved.append((change.moved_from, change.address))
            if saved.pending:
                with site_mod.publisher(loaded.site, loaded.project) as client:
                    result = Executor(saved, state, store, client, tokens, parallelism=parallelism,
                                      per_identity=_bounds(loaded), on_event=on_event).run()
        finally:
            if moved or result is not None:
                store.save(state)
    return Applied(saved, result, [], moved)


@dataclass
class Applied:
    plan: Plan
    result: ApplyResult | None  # None: the user declined, or there was nothing to do
    settled: list[Settled]
    moved: list[tuple[str, str]]


def apply(loaded: Loaded, *, confirm: Callable[[Plan], bool],
          on_event: Callable[[Event], None] = lambda e: None, parallelism: int = 8,
          lock_timeout: float = 0.0, now: datetime | None = None,
          replace: frozenset[str] = frozenset()) -> Applied:
    """Under the state's lock: settle unknown outcomes, plan, ask ``confirm``, record
    moved posts, publish, and write the state back."""
    store = loaded.store()
    clock = now or now_utc()
    tokens = loaded.tokens
    grace = timedelta(seconds=loaded.project.config.settle_after)
    with store.locked(timeout=lock_timeout):
        state = store.load_for_update()
        the_plan = make_plan(loaded, state, clock, replace)
        unknown = any(r.status == "unknown" for r in state.resources.values())
        settled: list[Settled] = []
        moved: list[tuple[str, str]] = []
        result: ApplyResult | None = None
        dirty = False
        try:
            needs_api = unknown or the_plan.pending
            with site_mod.publisher(loaded.site, loaded.project) if needs_api else nullcontext() as client:
                if unknown:
                    assert client is not None
                    settled = settle(state, client, tokens, clock, grace,
                                     lambda event: _journal(store, state, event))
                    dirty = bool(settled)
                    the_plan = make_plan(loaded, state, clock, replace)
                if (the_plan.pending or the_plan.moves) and confirm(the_plan):
                    dirty = True
                    for change in the_plan.moves:
                        assert change.moved_from is not None
                        _journal(store, state, {"op": "move", "address": change.moved_from,
                                                "to": change.address})
                        moved.append((change.moved_from, change.address))
                    if the_plan.pending:
                        assert client is not None
                        result = Executor(the_plan, state, store, client, tokens,
                                          parallelism=parallelism, per_identity=_bounds(loaded),
                                          on_event=on_event).run()
        finally:
            if dirty:
                store.save(state)
    return Applied(the_plan, result, settled, moved)


def move(workspace: Workspace, source: str, target: str) -> None:
    """Record the post of ``source`` under ``target`` (``state mv``): nothing is sent."""
    store = workspace.store()
    with store.locked():
        state = store.load_for_update()
        if source not in state.resources:
            raise UserError(Diagnostic(f"{source}: not in the state"))
        if target in state.resources:
            raise UserError(Diagnostic(f"{target}: already in the state"))
        _journal(store, state, {"op": "move", "address": source, "to": target})
        store.save(state)


def _verified(loaded: Loaded, state: State, saved: Plan) -> Plan:
    """The saved plan's changes to carry out, as planned afresh now; refuses a mismatch."""
    replace = frozenset(c.address for c in saved.changes if c.kind == "create" and c.replace)
    fresh = {c.address: c for c in make_plan(loaded, state, now_utc(), replace).changes}
    keep: list[Change] = []
    for change in saved.changes:
        if change.kind != "create" and not change.moved_from:
            continue
        now = fresh.get(change.address)
        same = now is not None and (now.kind, now.type, now.identity, now.digest, now.replace,
                                    now.moved_from, now.request) == (
            change.kind, change.type, change.identity, change.digest, change.replace,
            change.moved_from, change.request)
        if not same:
            raise UserError(Diagnostic(f"{change.address}: the plan file does not match what the "
                                       "manifests and the state give now", hint="make a new plan"))
        assert now is not None
        keep.append(now)
    return Plan(site=saved.site, created_at=saved.created_at, changes=tuple(keep),
                state_lineage=saved.state_lineage, state_serial=saved.state_serial,
                inputs_digest=saved.inputs_digest, changed_since=saved.changed_since)


#: Requests in flight for one account when pipeline.yaml says nothing of its network.
DEFAULT_PER_IDENTITY = 4


def _bounds(loaded: Loaded) -> dict[str, int]:
    """Each identity's bound on requests in flight, from its network's setting."""
    config = loaded.project.config
    default = config.per_identity.get("default", DEFAULT_PER_IDENTITY)
    return {name: config.per_identity.get(ident.network, default) for name, ident in config.identities.items()}


def _journal(store: StateStore, state: State, event: dict[str, object]) -> None:
    store.record(event)
    apply_event(state, event)


def show(workspace: Workspace) -> State:
    """The state as it stands, journal included."""
    return workspace.store().load()


def forget(workspace: Workspace, addresses: tuple[str, ...]) -> list[str]:
    """Drop addresses from the state (the posts stay online). Returns what was dropped."""
    store = workspace.store()
    with store.locked():
        state = store.load_for_update()
        missing = [a for a in addresses if a not in state.resources]
        if missing:
            raise UserError([Diagnostic(f"{a}: not in the state") for a in missing])
        for address in addresses:
            _journal(store, state, {"op": "forget", "address": address})
        store.save(state)
    return list(addresses)


def resolve(workspace: Workspace, address: str, *, published_id: str | None,
            location: str | None = None) -> Record:
    """Settle an ``unknown`` address by the user's word: published with this id, or not."""
    store = workspace.store()
    with store.locked():
        state = store.load_for_update()
        record = state.resources.get(address)
        endpoint = catalog.BY_TYPE[record.type] if record else None
        # Unknown outcomes, and published actions whose answer held no id (an upload
        # that OneAll finishes later), are what a person may settle.
        open_ = record is not None and endpoint is not None and (
            record.status == "unknown" or endpoint.id_field not in record.result)
        if not open_ or record is None or endpoint is None:
            what = "not in the state" if record is None else f"{record.status}, not unknown"
            raise UserError(Diagnostic(f"{address}: {what}", hint="only an unknown outcome can be resolved"))
        if record.status == "published" and published_id is None:
            raise UserError(Diagnostic(f"{address}: it was published; give its id with --published ID"))
        base = {"address": address, "type": record.type, "identity": record.identity,
                "digest": record.digest, "at": now_utc().isoformat(timespec="seconds")}
        if published_id is None:
            _journal(store, state, {**base, "op": "failed"})
        else:
            result = {endpoint.id_field: published_id}
            if location and endpoint.location_field:
                result[endpoint.location_field] = location
            _journal(store, state, {**base, "op": "published", "result": result,
                                    "attempted_at": record.attempted_at.isoformat() if record.attempted_at else None})
        store.save(state)
        return state.resources.get(address) or record


def unlock(workspace: Workspace, lock_id: str) -> None:
    workspace.store().break_lock(lock_id)
