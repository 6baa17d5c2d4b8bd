"""Planning use cases: a plan now, a plan saved to a file, and a plain plan from the one
remembered (``app.remember``) when little or nothing changed since."""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace as dataclass_replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import AbstractSet

from pipeline import clock, git
from pipeline.app import remember, review
from pipeline.app.workspace import Loaded, Workspace, load_workspace
from pipeline.errors import Diagnostic, Refused, UserError
from pipeline.files import atomic_write, read_nofollow
from pipeline.load.blobs import tracked
from pipeline.load.fingerprint import Fingerprint, fingerprint
from pipeline.load.reads import opened
from pipeline.load.project import CONFIG_FILE
from pipeline.model.plan import Plan
from pipeline.model.state import State
from pipeline.plan import planner
from pipeline.plan.state_diff import state_warnings
from pipeline.redact import contains_secret
from pipeline.report.json import plan_json


def make_plan(loaded: Loaded, state: State, now: datetime, replace: AbstractSet[str], *,
              inputs: str = "", changed_since: str | None = None,
              publish_overdue: AbstractSet[str] = frozenset()) -> Plan:
    """The planner over a loaded project and a state, with the command's options checked."""
    for option, given in (("--replace", replace), ("--publish-overdue", publish_overdue)):
        unknown = sorted(set(given) - set(loaded.graph.actions))
        if unknown:
            raise UserError([Diagnostic(f"{option} {a}: no manifest defines this address") for a in unknown])
    changed = None
    warnings: list[str] = []
    notes = loaded.notes
    if changed_since is not None:
        files = git.changed_files(loaded.project.root, changed_since)
        changed, note = review.effects(loaded, changed_since, files)
        notes += (note,) if note else ()
        warnings = _state_changes(loaded, state, changed_since, files)
    the_plan = planner.plan(loaded.graph, state, now, frozenset(replace), inputs_digest=inputs,
                            changed=changed, changed_since=changed_since,
                            late_after=timedelta(seconds=loaded.project.config.late_after),
                            publish_overdue=publish_overdue)
    if changed is not None:  # the change's own effects first, each part in plan order
        the_plan = dataclass_replace(the_plan, changes=tuple(sorted(the_plan.changes, key=lambda c: not c.in_change)))
    if warnings or notes:
        the_plan = dataclass_replace(the_plan, warnings=tuple(warnings), notes=notes)
    return the_plan


def _state_changes(loaded: Loaded, state: State, ref: str, changed: set[str]) -> list[str]:
    """What the change since ``ref`` does to the state file itself."""
    store = loaded.store()
    root = loaded.project.root
    paths = [p.relative_to(root).as_posix() for p in (store.path, store.journal_path)
             if p.is_relative_to(root)]
    if not any(p in changed for p in paths):
        return []
    snapshot, journal = (git.file_at(root, ref, p) for p in paths)
    try:
        before = store.parse(snapshot, journal)
    except UserError:
        return [f"replaces a state that could not be read at {ref}"]
    return state_warnings(before, state, set(loaded.graph.actions))


def plan(loaded: Loaded, *, now: datetime | None = None, replace: AbstractSet[str] = frozenset(),
         changed_since: str | None = None, saving: bool = False,
         publish_overdue: AbstractSet[str] = frozenset()) -> Plan:
    """What apply would do now. Reads the state without locking it. A plan to be saved
    carries the digest of its inputs, so that applying it can refuse a stale one."""
    inputs = inputs_digest(loaded) if saving else ""
    return make_plan(loaded, loaded.store().load(), now or clock.now(), replace, inputs=inputs,
                     changed_since=changed_since, publish_overdue=publish_overdue)


def plan_command(workspace: Workspace, *, replace: AbstractSet[str] = frozenset(),
                 changed_since: str | None = None, out: Path | None = None,
                 full: bool = False, publish_overdue: AbstractSet[str] = frozenset()) -> Plan:
    """``pipeline plan``: a plan, remembered when nothing changed, saved to ``out`` if asked.

    A plain plan (no option that changes what it holds, and ``full`` false: every change
    listed) may come from the summary remembered when nothing has changed since.
    """
    # A remembered plan is machine state too: not used from a .pipeline/ that a commit brought.
    plain = not (full or out or changed_since or replace or publish_overdue) and not tracked(workspace.project.root)
    prints = fingerprint(workspace.project) if plain else None
    now = clock.now()
    the_plan = None
    if prints is not None:
        the_plan = remember.from_memory(workspace, prints, now)
    if the_plan is None:
        loaded = load_workspace(workspace, prints=prints)
        if prints:
            the_plan = plan_and_remember(loaded, prints, now)
        else:
            the_plan = plan(loaded, replace=replace, changed_since=changed_since, saving=out is not None,
                            publish_overdue=publish_overdue)
    if out is not None:
        if contains_secret([c.request for c in the_plan.changes]):
            raise UserError("the plan holds a secret value, so it cannot be saved to a file")
        atomic_write(out, plan_json(the_plan), durable=False)
    return the_plan


def inputs_digest(loaded: Loaded) -> str:
    """A digest of everything a plan is made from: pipeline.yaml, every file under
    content/ (manifests, templates, media) that a scan lets through, what it refused,
    the configuration in force and the site. Each file is streamed through the hash from
    an open descriptor (never read whole, never through a FIFO or a link leading out)."""
    project = loaded.project
    digest = hashlib.sha256()
    digest.update(project.config.model_dump_json().encode())
    digest.update(b"\0" + loaded.site.name.encode() + b"\0")
    listing = project.survey()  # symlinked folders included, as Jinja reads them
    files = {CONFIG_FILE: str(project.root / CONFIG_FILE), **listing.real}
    for shown in [CONFIG_FILE, *sorted(listing.manifests + listing.others)]:
        digest.update(shown.encode() + b"\0")
        try:
            with opened(files[shown]) as (fd, _):
                with os.fdopen(os.dup(fd), "rb") as fh:
                    digest.update(hashlib.file_digest(fh, "sha256").digest())
        except Refused as refused:
            digest.update(f"refused: {refused.message}".encode())
    for problem in listing.problems:
        digest.update(f"refused {problem}\n".encode())
    return "sha256:" + digest.hexdigest()


def plan_and_remember(loaded: Loaded, prints: Fingerprint, now: datetime | None = None) -> Plan:
    """A full plan, remembered for the next runs (``app.remember``)."""
    now = now or clock.now()
    store = loaded.store()
    store.check_links()
    # The bytes read once: the plan and what it is remembered against are the same state.
    snapshot, journal = read_nofollow(store.path), read_nofollow(store.journal_path)
    state = store.parse(snapshot, journal)
    the_plan = make_plan(loaded, state, now, frozenset())
    remember.plan_and_remember(loaded, prints, now, the_plan, state, snapshot, journal)
    return the_plan
