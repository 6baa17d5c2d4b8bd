"""The apply use case: one path for a fresh plan and for a saved one.

Under the state's lock: settle unknown outcomes (fresh plans only), decide the plan
(made now and confirmed, or saved and verified against what the manifests and the state
give now), record moved posts, send, and write the state back.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable

from pipeline import clock, git
from pipeline.app.planning import inputs_digest, make_plan
from pipeline.app.workspace import Loaded
from pipeline.apply import site as site_mod
from pipeline.apply.executor import Executor
from pipeline.apply.results import ApplyResult, Event
from pipeline.apply.settle import Settled, settle
from pipeline.apply.store import StateStore
from pipeline.errors import Diagnostic, UserError
from pipeline.model.plan import Change, Plan
from pipeline.model.journal import Moved
from pipeline.model.state import State
from pipeline.report import github

if TYPE_CHECKING:  # requests is imported only when something is sent
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
    if loaded.site.is_sandbox and github.active() and not sandbox:
        raise UserError(Diagnostic(
            "no OneAll site is configured, and this is a GitHub Actions run: apply does not publish "
            "to the embedded sandbox by accident",
            hint="set the repository variable ONEALL_SUBDOMAIN and the secrets ONEALL_PUBLIC_KEY and "
                 "ONEALL_PRIVATE_KEY (see the README), or pass --sandbox (PIPELINE_SANDBOX=1) to use "
                 "the sandbox on purpose"))
    if saved is not None:
        _check_saved(loaded, saved)
    store = loaded.store()
    at = now or clock.now()
    with store.locked(timeout=lock_timeout):
        store.verify_origin(confirm_state, _history(loaded, store))
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
                for change in the_plan.moves:
                    assert change.moved_from is not None
                    store.commit(state, Moved(change.moved_from, to=change.address))
                    moved.append((change.moved_from, change.address))
                if the_plan.pending:
                    result = Executor(the_plan, state, store, publisher(), loaded.tokens,
                                      parallelism=parallelism, per_identity=loaded.bounds,
                                      on_event=on_event).run()
        finally:
            if dirty:
                store.save(state)
    return Applied(the_plan, result, settled, moved)


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


def _history(loaded: Loaded, store: StateStore) -> list[bytes]:
    """The newest versions of the state file that git recorded (none for the sandbox,
    whose state is not in git, or outside a repository)."""
    if store.signer is None or not store.path.is_relative_to(loaded.project.root):
        return []
    return git.recent_versions(loaded.project.root, store.path.relative_to(loaded.project.root).as_posix())

