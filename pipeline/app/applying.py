"""The apply use case: one path for a fresh plan and for a saved one.

Under the state's lock: settle unknown outcomes (fresh plans only), decide the plan
(made now and confirmed, or saved and verified against what the manifests and the state
give now), record moved posts, send, and write the state back.

``apply_workspace`` first tries the same in part: when the plan is remembered, or can
be made incrementally, only the records its changes touch are read and the snapshot is
written back whole around them (``_apply_in_part``); otherwise everything is loaded.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable

from pipeline import clock, git
from pipeline.app import remember
from pipeline.app.planning import inputs_digest, make_plan
from pipeline.app.workspace import Loaded, Workspace, load_workspace
from pipeline.apply import origin
from pipeline.apply import site as site_mod
from pipeline.apply.executor import Executor
from pipeline.apply.partial import PartialStore
from pipeline.apply.results import ApplyResult, Event
from pipeline.apply.settle import Settled, settle
from pipeline.apply.store import StateStore
from pipeline.errors import Diagnostic, UserError
from pipeline.load.blobs import tracked
from pipeline.load.fingerprint import Fingerprint, fingerprint
from pipeline.model.plan import Change, Plan
from pipeline.model.journal import Moved
from pipeline.model.state import State
from pipeline.report import github

if TYPE_CHECKING:  # the HTTP client is imported only when something is sent
    from pipeline.oneall.client import OneAllClient


@dataclass
class Applied:
    plan: Plan
    result: ApplyResult | None  # None: the user declined, or there was nothing to send
    settled: list[Settled]
    moved: list[tuple[str, str]]


def apply(loaded: Loaded, *, saved: Plan | None = None,
          confirm: Callable[[Plan], bool] = lambda plan: True,
          on_event: Callable[[Event], None] = lambda e: None, parallelism: int = 8,
          lock_timeout: float = 0.0, now: datetime | None = None,
          replace: frozenset[str] = frozenset(), confirm_state: str | None = None,
          sandbox: bool = False, publish_overdue: frozenset[str] = frozenset()) -> Applied:
    """Carry out a plan: made now (``saved`` None), or the reviewed ``saved`` one.

    ``confirm`` sees the plan about to be carried out and may decline it. A saved plan is
    not trusted for what it says to send: it is made again from the manifests and the
    locked state, every change to carry out must be the same in both, and what is sent
    is the fresh rendering. A state that the pipeline did not write itself (with the
    site's key) is refused unless ``confirm_state`` names its digest. In a GitHub Actions
    run, the embedded sandbox is used only if ``sandbox`` asks for it.
    """
    _refuse_sandbox_in_actions(loaded, sandbox)
    if saved is not None:
        _check_saved(loaded, saved)
    store = loaded.store()
    at = now or clock.now()
    with store.locked(timeout=lock_timeout):
        origin.verify(store, confirm_state, _history(loaded, store))
        state = store.load_for_update()
        dirty = False
        settled: list[Settled] = []
        moved: list[tuple[str, str]] = []
        result: ApplyResult | None = None
        try:
            with ExitStack() as session:
                client: list[OneAllClient] = []

                def publisher() -> OneAllClient:  # the sandbox or the network, only when needed
                    if not client:
                        client.append(session.enter_context(
                            site_mod.publisher(loaded.site, loaded.project, parallelism=parallelism)))
                    return client[0]

                if saved is None:
                    the_plan = make_plan(loaded, state, at, replace, publish_overdue=publish_overdue)
                    if any(r.status == "unknown" for r in state.resources.values()):
                        grace = timedelta(seconds=loaded.project.config.settle_after)
                        settled = settle(state, publisher(), loaded.tokens, at, grace,
                                         lambda event: store.commit(state, event))
                        dirty = bool(settled)
                        the_plan = make_plan(loaded, state, at, replace, publish_overdue=publish_overdue)
                else:
                    the_plan = _verified(loaded, store, state, saved)
                if not (the_plan.pending or the_plan.moves) or not confirm(the_plan):
                    return Applied(the_plan, None, settled, moved)
                dirty = True
                result = _carry_out(loaded, store, state, the_plan, publisher, moved, parallelism, on_event)
        finally:
            if dirty:
                store.save(state)
    return Applied(the_plan, result, settled, moved)


def apply_workspace(workspace: Workspace, *, saved: Plan | None = None,
                    confirm: Callable[[Plan], bool] = lambda plan: True,
                    on_event: Callable[[Event], None] = lambda e: None, parallelism: int = 8,
                    lock_timeout: float = 0.0, replace: frozenset[str] = frozenset(),
                    confirm_state: str | None = None, sandbox: bool = False,
                    publish_overdue: frozenset[str] = frozenset()) -> Applied:
    """``apply`` for a workspace: with the plan remembered when only a few files changed
    (``_apply_in_part``), else with everything loaded."""
    prints = None
    if saved is None and not replace and not publish_overdue and not tracked(workspace.project.root):
        prints = fingerprint(workspace.project)
        done = _apply_in_part(workspace, prints, confirm=confirm, on_event=on_event, parallelism=parallelism,
                              lock_timeout=lock_timeout, confirm_state=confirm_state, sandbox=sandbox)
        if done is not None:
            return done
    return apply(load_workspace(workspace, prints=prints), saved=saved, confirm=confirm, on_event=on_event,
                 parallelism=parallelism, lock_timeout=lock_timeout, replace=replace,
                 confirm_state=confirm_state, sandbox=sandbox, publish_overdue=publish_overdue)


def _apply_in_part(workspace: Workspace, prints: Fingerprint, *, confirm: Callable[[Plan], bool],
                   on_event: Callable[[Event], None], parallelism: int, lock_timeout: float,
                   confirm_state: str | None, sandbox: bool) -> Applied | None:
    """An apply from the plan remembered, or made incrementally (``app.remember``),
    holding only the records it can touch (``apply.partial``); None when it cannot be
    made so, under the lock (then everything is loaded and planned in full).

    The same plan as in full (a randomized test holds the incremental plan to the full
    one), the same checks of the state's origin, the same write-ahead journal; only a
    plan with an unknown outcome to settle is left to the full path, which plans again
    after settling."""
    _refuse_sandbox_in_actions(workspace, sandbox)
    base = workspace.store()
    store = PartialStore(base.path, base.site, shown=base.shown, root=base.root, signer=base.signer)
    # Planned before the lock, as the full path compiles before it (a manifest's mistake
    # is reported without touching the state's folder), and kept only if the state is
    # still the one it was planned against once the lock is held.
    digests = remember.state_digests(workspace)
    the_plan = remember.from_memory(workspace, prints, clock.now(), digests, in_part=True)
    # An orphan's unknown outcome too: the full path settles every one before planning.
    if the_plan is None or any(c.kind == "unknown" or (c.record is not None and c.record.status == "unknown")
                               for c in the_plan.changes):
        return None
    with store.locked(timeout=lock_timeout):
        origin.verify(store, confirm_state, _history(workspace, store))
        if remember.state_digests(workspace) != digests:
            return None
        needed = {a for c in the_plan.changes for a in (c.address, c.moved_from, *c.depends_on) if a}
        state = store.load_part(needed, digests[0])  # the digest just checked under the lock
        if state is None or (state.lineage, state.serial) != (the_plan.state_lineage, the_plan.state_serial):
            return None
        if not (the_plan.pending or the_plan.moves) or not confirm(the_plan):
            return Applied(the_plan, None, [], [])
        moved: list[tuple[str, str]] = []
        try:
            with ExitStack() as session:
                client: list[OneAllClient] = []

                def publisher() -> OneAllClient:
                    if not client:
                        client.append(session.enter_context(
                            site_mod.publisher(workspace.site, workspace.project, parallelism=parallelism)))
                    return client[0]

                result = _carry_out(workspace, store, state, the_plan, publisher, moved, parallelism, on_event)
        finally:
            store.save(state)
    return Applied(the_plan, result, [], moved)


def _carry_out(workspace: Workspace, store: StateStore, state: State, the_plan: Plan,
               publisher: Callable[[], OneAllClient], moved: list[tuple[str, str]], parallelism: int,
               on_event: Callable[[Event], None]) -> ApplyResult | None:
    """Record the moves, then send what the plan says."""
    for change in the_plan.moves:
        assert change.moved_from is not None
        store.commit(state, Moved(change.moved_from, to=change.address))
        moved.append((change.moved_from, change.address))
    if not the_plan.pending:
        return None
    return Executor(the_plan, state, store, publisher(), workspace.tokens, parallelism=parallelism,
                    per_identity=workspace.bounds, on_event=on_event).run()


def _refuse_sandbox_in_actions(workspace: Workspace, sandbox: bool) -> None:
    if workspace.site.is_sandbox and github.active() and not sandbox:
        raise UserError(Diagnostic(
            "no OneAll site is configured, and this is a GitHub Actions run: apply does not publish "
            "to the embedded sandbox by accident",
            hint="set the repository variable ONEALL_SUBDOMAIN and the secrets ONEALL_PUBLIC_KEY and "
                 "ONEALL_PRIVATE_KEY (see the README), or pass --sandbox (PIPELINE_SANDBOX=1) to use "
                 "the sandbox on purpose"))


def _check_saved(loaded: Loaded, saved: Plan) -> None:
    if saved.site != loaded.site.name:
        raise UserError(Diagnostic(f"the plan was made against site {saved.site!r}, "
                                   f"but this run's site is {loaded.site.name!r}"))
    if not saved.inputs_digest:
        raise UserError(Diagnostic("this plan was not saved with `pipeline plan --out`"))


def _verified(loaded: Loaded, store: StateStore, state: State, saved: Plan) -> Plan:
    """The saved plan's changes to carry out, as planned afresh now; refuses a mismatch."""
    if (state.lineage, state.serial) != (saved.state_lineage, saved.state_serial):
        raise UserError(Diagnostic(
            f"the state changed since the plan was made (serial {saved.state_serial} -> "
            f"{state.serial}{', another lineage' if state.lineage != saved.state_lineage else ''})",
            hint="make a new plan"))
    if inputs_digest(loaded) != saved.inputs_digest:
        raise UserError(Diagnostic(
            "manifests, templates or configuration changed since the plan was made",
            hint="make a new plan"))
    replace = frozenset(c.address for c in saved.changes if c.kind == "create" and c.replace)
    approved = frozenset(c.address for c in saved.changes if c.kind == "create")  # overdue ones too
    fresh = {c.key: c for c in make_plan(loaded, state, clock.now(), replace, publish_overdue=approved).changes}
    keep: list[Change] = []
    for change in saved.changes:
        if not (change.kind in ("create", "update", "delete") or change.moved_from):
            continue
        now = fresh.get(change.key)
        if now is None or _essence(now) != _essence(change):
            raise UserError(Diagnostic(f"{change.key}: the plan file does not match what the "
                                       "manifests and the state give now", hint="make a new plan"))
        keep.append(now)
    return Plan(site=saved.site, created_at=saved.created_at, changes=tuple(keep),
                state_lineage=saved.state_lineage, state_serial=saved.state_serial,
                inputs_digest=saved.inputs_digest, changed_since=saved.changed_since)


def _essence(change: Change) -> tuple[object, ...]:
    """What must be the same in a saved plan and a fresh one for the change to be carried out."""
    return (change.kind, change.type, change.identity, change.digest, change.replace,
            change.moved_from, change.request, change.superseded)


def _history(workspace: Workspace, store: StateStore) -> list[bytes]:
    """The newest versions of the state file that git recorded (none for the sandbox,
    whose state is not in git, or outside a repository)."""
    if store.signer is None or not store.path.is_relative_to(workspace.project.root):
        return []
    return git.recent_versions(workspace.project.root, store.path.relative_to(workspace.project.root).as_posix())

