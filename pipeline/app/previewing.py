"""Preview use cases: the static site of a plan's cards and calendar, and the calendar
as an iCalendar file.

Both plan in full (unchanged actions included: they are the published part of the
calendar) and read no network: the repository's own pictures are embedded from
``content/``, and a remote picture is only ever linked.
"""

from __future__ import annotations

import gc
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterable
from zoneinfo import ZoneInfo

from pipeline import catalog
from pipeline.app.planning import plan
from pipeline.app.workspace import Workspace, load_workspace
from pipeline.errors import UserError
from pipeline.files import atomic_write
from pipeline.load.project import private_dir
from pipeline.load.thumbnails import Thumbnail, repository_path, thumbnail
from pipeline.model.plan import Plan
from pipeline.report.preview import calendar, cards, ics, site

#: The file that marks a folder as a preview, which the next preview may replace whole.
MARKER = ".pipeline-preview"


@dataclass(frozen=True)
class Previewed:
    """What ``preview`` wrote: where, how many files, from which plan."""

    out: Path
    plan: Plan
    files: int

    @property
    def index(self) -> Path:
        return self.out / site.INDEX


@dataclass(frozen=True)
class Calendar:
    """What ``calendar`` wrote."""

    path: Path
    events: int


def zone(workspace: Workspace) -> ZoneInfo:
    """The site's time zone: pipeline.yaml's ``timezone``, UTC by default."""
    return ZoneInfo(workspace.project.config.timezone or "UTC")


def full_plan(workspace: Workspace, *, changed_since: str | None = None,
              now: datetime | None = None) -> Plan:
    """The plan with every change listed, unchanged ones too."""
    return plan(load_workspace(workspace), now=now, changed_since=changed_since)


def thumbnails(workspace: Workspace, the_plan: Plan) -> dict[str, Thumbnail]:
    """Each picture URL of the plan that stands for a repository file, as a thumbnail."""
    project = workspace.project
    base = project.config.media_base_url
    found: dict[str, Thumbnail] = {}
    if not base:
        return found
    for change in the_plan.changes:
        endpoint = catalog.BY_TYPE.get(change.type)
        request = change.request or (change.record.request if change.record and change.record.request else {})
        for spec in endpoint.fields if endpoint else ():
            url = request.get(spec.name)
            if spec.media != "picture" or not isinstance(url, str) or url in found:
                continue
            relative = repository_path(url, base)
            if relative is not None:
                found[url] = thumbnail(project.content_dir, relative)
    return found


def preview_command(workspace: Workspace, *, out: Path | None = None, changed_since: str | None = None,
                    now: datetime | None = None) -> Previewed:
    """``pipeline preview``: the static site, written to ``out`` (default .pipeline/preview)."""
    the_plan = full_plan(workspace, changed_since=changed_since, now=now)
    # Rendering makes a few objects per card and keeps none: a collection meanwhile would
    # only walk the plan again and again (a third of the time, at 30,000 actions).
    files = site.render(the_plan, zone=zone(workspace), thumbnails=thumbnails(workspace, the_plan),
                        site=workspace.site.name, sandbox=workspace.site.is_sandbox)
    out = out if out is not None else private_dir(workspace.project.root) / "preview"
    gc.disable()
    try:
        written = write_site(out, files)
    finally:
        gc.enable()
    return Previewed(out, the_plan, written)


def calendar_command(workspace: Workspace, *, out: Path, now: datetime | None = None) -> Calendar:
    """``pipeline calendar --ics FILE``: every scheduled, pending and published action."""
    the_plan = full_plan(workspace, now=now)
    here = zone(workspace)
    found = calendar.events(cards.build(the_plan, here, {}), the_plan.created_at.astimezone(here))
    atomic_write(out, ics.ics(found, name=f"{workspace.site.name} posts", now=the_plan.created_at),
                 durable=False)
    return Calendar(out, len(found))


def write_site(out: Path, files: Iterable[tuple[str, str]]) -> int:
    """Replace the preview in ``out`` with ``files`` (path in the site, text), and say
    how many; a folder that holds something else is refused, never emptied.

    Raises:
        UserError: ``out`` is a link, a file, or a folder that holds no preview.
    """
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise UserError(f"{out}: the preview goes in a folder of its own, not a file or a link")
    if out.exists():
        if any(out.iterdir()) and not (out / MARKER).is_file():
            raise UserError(f"{out} is not empty and holds no preview: choose a new or empty folder")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("Written by `pipeline preview`, which replaces this folder whole.\n")
    count = 0
    for relative, text in files:
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8", "replace"))
        count += 1
    return count
