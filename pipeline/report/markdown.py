"""The plan as Markdown, for a pull-request comment and the job summary.

Rendered text comes from manifests that anyone may propose in a pull request, so it is
untrusted: every piece of it sits in a fenced code block whose fence is longer than any
run of backticks inside (it cannot close the block early, and inside it ``</details>``,
HTML and ``@team`` are inert), and every name outside code is escaped so it can neither
format, link nor ping.
"""

from __future__ import annotations

import json
import re
from typing import Any, Sequence

from pipeline import catalog
from pipeline.catalog import Kind
from pipeline.errors import Diagnostic
from pipeline.model.plan import CHANGE_KINDS, Change, Plan
from pipeline.report.text import KIND_WORDS

#: The hidden first line by which the workflow finds its own comment to update it.
MARKER = "<!-- pipeline:plan -->"
#: The same for the one issue that lists drift found by ``refresh``.
MARKER_DRIFT = "<!-- pipeline:drift -->"
#: GitHub refuses comments over 65,536 characters; keep well inside.
MAX_CHARS = 60_000
FOLD_CHARS = 400  # content longer than this is folded in <details>
MAX_LISTED = 50
#: Room kept for the note that names what did not fit (50 escaped addresses).
_NOTE_RESERVE = 12_000

_TITLE = {"create": "➕ create", "update": "✏️ update", "delete": "🗑️ delete", "wait": "⏳ wait", "overdue": "⌛ overdue",
          "unknown": "❓ unknown", "changed": "⚠️ changed", "noop": "✅ unchanged", "orphan": "👻 orphan"}
_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&])")


def inline(text: str) -> str:
    """Untrusted text outside code: no Markdown, no HTML, no @mention, no line break."""
    text = " ".join(text.splitlines())
    return _PUNCTUATION.sub(r"\\\1", text).replace("@", "@\u200b")


def code(text: str) -> str:
    """``text`` as inline code that nothing inside can close (one line)."""
    text = " ".join(text.splitlines())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def fenced(text: str, info: str = "text") -> str:
    """``text`` in a code block that nothing inside can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def summary(plan: Plan) -> str:
    parts = [f"**{plan.count(k)}** {KIND_WORDS[k]}" for k in CHANGE_KINDS if plan.count(k)]
    return " · ".join(parts) if parts else "no actions"


def plan_markdown(plan: Plan, *, sandbox: bool = False) -> str:
    """The whole plan: a one-line summary, then each change with its rendered content."""
    lines = [MARKER, "### pipeline plan", ""]
    if plan.warnings:
        lines += ["> [!WARNING]", "> **This pull request changes the state itself**, which decides what "
                  "merging publishes. It:"]
        lines += [f"> - {inline(w)}" for w in plan.warnings]
        lines += [""]
    lines += [f"_Note: {inline(note)}._" for note in plan.notes] + ([""] if plan.notes else [])
    lines += [summary(plan) + "."]
    if sandbox:
        lines += ["", "_No OneAll site is configured: this is the sandbox's plan._"]
    shown = [c for c in plan.changes if c.kind != "noop" or c.moved_from or c.in_change]
    if plan.changed_since is not None:
        own = sum(1 for c in shown if c.in_change)
        lines += ["", f"{own} of these come from files changed since {code(plan.changed_since)}, listed first."]
        shown.sort(key=lambda c: not c.in_change)  # stable: dependency order within each part
    blocks = ["\n".join(_change(change)) for change in shown]
    unchanged = [c.address for c in plan.changes if c.kind == "noop" and not c.moved_from and not c.in_change]
    if unchanged:
        listed = "\n".join(f"- {inline(a)}" for a in unchanged[:MAX_LISTED])
        more = f"\n- … and {len(unchanged) - MAX_LISTED} more" if len(unchanged) > MAX_LISTED else ""
        tail = f"<details><summary>{len(unchanged)} unchanged</summary>\n\n{listed}{more}\n\n</details>"
    else:
        tail = ""
    head = "\n".join(lines)
    # A comment has a size limit: what does not fit is named, never silently dropped,
    # and the note saying so comes before anything else could be cut.
    budget = MAX_CHARS - len(head) - len(tail) - _NOTE_RESERVE
    kept: list[str] = []
    for block in blocks:
        if len(block) + 2 > budget:
            break
        kept.append(block)
        budget -= len(block) + 2
    text = head
    if len(kept) < len(blocks):
        left = shown[len(kept):]
        names = ", ".join(inline(c.key) for c in left[:MAX_LISTED])
        more = f" and {len(left) - MAX_LISTED} more" if len(left) > MAX_LISTED else ""
        text += (f"\n\n> **{len(left)} of {len(shown)} changes are not shown here** (the comment "
                 f"would be too long): {names}{more}. The full plan is in this run's `plan` artifact "
                 "(`plan.md` and `plan.json`, never truncated), and `pipeline plan` prints it.")
    for block in kept:
        text += "\n\n" + block
    if tail:
        text += "\n\n" + tail
    return text + "\n"


def _change(change: Change) -> list[str]:
    head = f"#### {_TITLE[change.kind]} {inline(change.key)}"
    meta = f"{inline(change.type)} as **{inline(change.identity)}**"  # an orphan's type is from the state
    if change.in_change:
        meta += " · from this change"
    if change.publish_at and change.kind == "wait":
        meta += f" · at {change.publish_at.isoformat()}"
    out = [head, "", meta]
    if change.reason:
        out += ["", f"_{inline(change.reason)}_"]
    if change.diff:
        out += ["", *_diff(change)]
    elif change.kind in ("create", "wait"):
        fields = _fields(change)
        size = sum(len(f) for f in fields)
        if size > FOLD_CHARS:
            out += ["", f"<details><summary>Content ({size} characters)</summary>", "", *fields, "", "</details>"]
        else:
            out += ["", *fields]
    elif change.record is not None and change.record.result:
        location = next((v for k, v in sorted(change.record.result.items()) if k.endswith("_location")), None)
        if location:
            out += ["", f"Published: {inline(location)}"]
    return out


def _fields(change: Change) -> list[str]:
    endpoint = catalog.BY_TYPE[change.type]
    out: list[str] = []
    for name, value in change.request.items():
        spec = endpoint.by_name[name]
        label = f"**{name}**"
        if spec.max_length and isinstance(value, str):
            label += f" · {len(value)}/{spec.max_length} characters"
        out += [label, fenced(_text(spec, value)), ""]
    return out[:-1] if out else out


def _diff(change: Change) -> list[str]:
    """Each changed field as a diff block: old lines with ``-``, new ones with ``+``."""
    endpoint = catalog.BY_TYPE[change.type]
    out: list[str] = []
    for item in change.diff:
        spec = endpoint.by_name[item.field]
        old = [f"- {line}" for line in _text(spec, item.old).splitlines() or [""]] if item.old is not None else []
        new = [f"+ {line}" for line in _text(spec, item.new).splitlines() or [""]] if item.new is not None else []
        out += [f"**{item.field}**", fenced("\n".join(old + new), "diff"), ""]
    return out[:-1]


def _text(spec: catalog.Field, value: Any) -> str:
    if spec.kind in (Kind.ID, Kind.ID_LIST):
        return "\n".join(_id(v) for v in (value if isinstance(value, list) else [value]))
    return value if isinstance(value, str) else json.dumps(value)


def _id(value: Any) -> str:
    if isinstance(value, dict) and "ref" in value:
        return f"{value['ref']} (known after apply)"
    return str(value)


def errors_markdown(diagnostics: Sequence[Diagnostic]) -> str:
    """A plan that could not be made, for the pull-request comment: every problem at its
    place (escaped: a file name and a message come from the pull request)."""
    lines = [MARKER, "### pipeline plan", "",
             f"❌ **No plan: {len(diagnostics)} problem{'s' if len(diagnostics) != 1 else ''} to fix "
             "first.** Nothing can be published from this change until then.", ""]
    for diagnostic in diagnostics[:MAX_LISTED * 4]:
        where = f"{code(str(diagnostic.location))}: " if diagnostic.location is not None else ""
        hint = f" _({inline(diagnostic.hint)})_" if diagnostic.hint else ""
        lines.append(f"- {where}{inline(diagnostic.message)}{hint}")
    if len(diagnostics) > MAX_LISTED * 4:
        lines.append(f"- … and {len(diagnostics) - MAX_LISTED * 4} more (the run's log lists them all)")
    return "\n".join(lines)[:MAX_CHARS] + "\n"
