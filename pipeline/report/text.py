"""Plans, states and apply results as text for people.

Pure functions returning strings; colour is added with ``click.style`` and removed by
``click.echo`` when the output is not a terminal.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable

import click

from pipeline import catalog
from pipeline.catalog import Kind
from pipeline.apply.results import DONE, ApplyResult, Event
from pipeline.model.plan import CHANGE_KINDS, Change, ChangeKind, Plan
from pipeline.model.state import State

if TYPE_CHECKING:  # settling reads back through the HTTP client: not imported to print a plan
    from pipeline.apply.settle import Settled

_SYMBOL: dict[ChangeKind, tuple[str, str]] = {
    "create": ("+", "green"), "update": ("~", "blue"), "delete": ("-", "red"),
    "wait": ("@", "cyan"), "overdue": ("#", "yellow"), "unknown": ("?", "magenta"), "changed": ("!", "yellow"),
    "noop": ("=", "white"), "orphan": ("o", "yellow"),
}
#: How a count of each kind reads, in every report.
KIND_WORDS: dict[ChangeKind, str] = {
    "create": "to create", "update": "to update", "delete": "to delete", "wait": "waiting", "overdue": "overdue",
    "unknown": "unknown", "changed": "changed", "noop": "unchanged", "orphan": "orphaned",
}


def summary(plan: Plan) -> str:
    parts = [f"{plan.count(k)} {KIND_WORDS[k]}" for k in CHANGE_KINDS if plan.count(k)]
    return "Plan: " + (", ".join(parts) if parts else "no actions") + "."


def plan_text(plan: Plan, *, show_noop: bool = False) -> str:
    """The plan for a person: a summary, then each change that is not a no-op."""
    lines = [click.style(f"WARNING: this change edits the state: it {w}.", fg="red", bold=True)
             for w in plan.warnings]
    lines += [f"note: {note}" for note in plan.notes]
    lines += [summary(plan)]
    if plan.changed_since is not None:
        own = sum(1 for c in plan.changes if c.in_change)
        lines.append(f"{own} from this change (since {plan.changed_since}), listed first and marked *.")
    lines.append("")
    for change in plan.changes:
        if change.kind == "noop" and not show_noop and not change.moved_from and not change.in_change:
            continue
        symbol, colour = _SYMBOL[change.kind]
        mark = "* " if change.in_change else ""
        head = f"{mark}{symbol} {change.key}  ({change.type} as {change.identity})"
        lines.append(click.style(head, fg=colour, bold=change.kind in ("create", "update", "delete")))
        if change.reason:
            lines.append(f"    # {change.reason}")
        if change.diff:
            lines.extend(f"    {line}" for line in diff_lines(change))
        elif change.kind in ("create", "wait"):
            lines.extend(f"    {line}" for line in request_lines(change))
        if change.kind not in ("create", "wait") and change.record is not None and change.record.result:
            ids = ", ".join(f"{k}={v}" for k, v in sorted(change.record.result.items()))
            lines.append(f"    published: {ids}")
    if plan.moves:
        lines.append(f"{len(plan.moves)} moved: apply records them under their new addresses.")
    if not plan.pending:
        lines.append("Nothing to publish now.")
    return "\n".join(lines).rstrip() + "\n"


def request_lines(change: Change) -> Iterable[str]:
    """Each request field, references shown as ``(known after apply)``."""
    endpoint = catalog.BY_TYPE[change.type]
    for name, value in change.request.items():
        spec = endpoint.by_name[name]
        shown = _value_text(spec, value)
        if spec.max_length and isinstance(value, str):
            shown += f"  ({len(value)}/{spec.max_length} characters)"
        yield f"{name}: {shown}"


def diff_lines(change: Change) -> Iterable[str]:
    """Each changed field, as last sent and as rendered now."""
    endpoint = catalog.BY_TYPE[change.type]
    for item in change.diff:
        spec = endpoint.by_name[item.field]
        yield f"{item.field}: {_value_text(spec, item.old)} -> {_value_text(spec, item.new)}"


def _value_text(spec: catalog.Field, value: Any) -> str:
    if value is None:
        return "(none)"
    if spec.kind is Kind.ID_LIST and isinstance(value, list):
        return "[" + ", ".join(_id_text(v) for v in value) + "]"
    if spec.kind is Kind.ID:
        return _id_text(value)
    return json.dumps(value, ensure_ascii=False)


def _id_text(value: Any) -> str:
    if isinstance(value, dict) and "ref" in value:
        return f"{value['ref']} (known after apply)"
    return json.dumps(value)


def event_line(event: Event) -> str | None:
    """One line per finished address during apply."""
    if event.outcome in ("published", "edited"):
        where = next((v for k, v in sorted(event.result.items()) if k.endswith("_location")), None)
        ids = ", ".join(f"{k}={v}" for k, v in sorted(event.result.items()) if k.endswith("_id"))
        note = f" ({event.detail})" if event.detail else ""
        return (click.style(f"{event.outcome:<10}", fg="green") + f"{event.address}: {ids}"
                + (f" {where}" if where else "") + note)
    if event.outcome == "deleted":
        return click.style("deleted   ", fg="green") + event.address + (f" ({event.detail})" if event.detail else "")
    if event.outcome == "failed":
        return click.style("failed    ", fg="red") + f"{event.address}: {event.detail}"
    if event.outcome == "unknown":
        return click.style("unknown   ", fg="magenta") + f"{event.address}: {event.detail}"
    if event.outcome == "skipped":
        return click.style("skipped   ", fg="yellow") + f"{event.address}: {event.detail}"
    return None


def settled_line(settled: Settled) -> str:
    """What reading back an unknown outcome found."""
    colour = {"published": "green", "absent": "yellow", "unknown": "magenta"}[settled.outcome]
    word = {"published": "found     ", "absent": "not found ", "unknown": "still unknown "}[settled.outcome]
    ids = ", ".join(f"{k}={v}" for k, v in sorted(settled.result.items()))
    return click.style(word, fg=colour) + f"{settled.address}: {settled.detail}" + (f" ({ids})" if ids else "")


class Progress:
    """Apply's progress: a bar redrawn in place on a terminal, a plain line every few
    seconds elsewhere (a CI log must stay readable)."""

    def __init__(self, total: int, *, tty: bool, every: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.tty, self.every, self.clock = total, tty, every, clock
        self.started = self.last = clock()
        self.done = self.failed = 0

    def update(self, event: Event) -> str | None:
        """The text to show after ``event``, if any (on a terminal it starts with ``\r``)."""
        if event.outcome == "started":
            return None
        self.done += 1
        self.failed += event.outcome not in DONE
        now = self.clock()
        if self.tty:
            return "\r" + self.line(now)
        if now - self.last >= self.every or self.done == self.total:
            self.last = now
            return "progress: " + self.line(now)
        return None

    def line(self, now: float) -> str:
        rate = self.done / max(now - self.started, 1e-9)
        failed = f", {self.failed} not done" if self.failed else ""
        text = f"{self.done}/{self.total} done{failed}, {rate:.1f} actions/s"
        if not self.tty:
            return text
        width = 24
        filled = int(width * self.done / max(self.total, 1))
        return f"[{'#' * filled}{'.' * (width - filled)}] " + text


def apply_summary(result: ApplyResult) -> str:
    parts = [f"{len(result.published)} published"]
    for word, items in (("edited", result.edited), ("deleted", result.deleted), ("failed", result.failed),
                        ("unknown", result.unknown), ("skipped", result.skipped)):
        if items:
            parts.append(f"{len(items)} {word}")
    text = "Apply: " + ", ".join(parts) + "."
    if result.unknown:
        text += ("\nAn unknown outcome is never re-sent blindly: check the account, then "
                 "`pipeline state resolve ADDRESS --published ID` or `--not-published`.")
    return text


def state_text(state: State) -> str:
    """What has been published: address, type, status, ids, URL, when."""
    if not state.resources:
        return "Nothing published yet.\n"
    lines = []
    for address, record in sorted(state.resources.items()):
        when = record.published_at.isoformat() if record.published_at else "-"
        lines.append(f"{address}  {record.type}  {record.status}  {when}")
        for key, value in sorted(record.result.items()):
            lines.append(f"    {key}: {value}")
    return "\n".join(lines) + "\n"
