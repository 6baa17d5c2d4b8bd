"""What ``refresh`` found, as text for people and Markdown for the drift issue."""

from __future__ import annotations

from typing import Mapping, Sequence

import click

from pipeline import catalog
from pipeline.apply.readback import Drift
from pipeline.model.state import Record
from pipeline.report.markdown import MARKER_DRIFT, fenced, inline

_WORDS = {"deleted": ("deleted elsewhere", "red"), "edited": ("edited elsewhere", "yellow"),
          "unchecked": ("unchecked", "magenta"), "ok": ("ok", "green")}


def counts(found: Sequence[Drift]) -> str:
    parts = [f"{sum(d.kind == k for d in found)} {_WORDS[k][0]}" for k in ("deleted", "edited", "unchecked", "ok")
             if any(d.kind == k for d in found)]
    return "Refresh: " + (", ".join(parts) if parts else "nothing recorded to read back") + "."


def _old_new(drift: Drift, record: Record | None) -> list[tuple[str, object, object]]:
    sent = (record.request if record else None) or {}
    return [(name, sent.get(name), drift.online.get(name)) for name in drift.fields]


def drift_text(found: Sequence[Drift], records: Mapping[str, Record], *, show_ok: bool = False) -> str:
    lines = [counts(found), ""]
    for drift in found:
        if drift.kind == "ok" and not show_ok:
            continue
        word, colour = _WORDS[drift.kind]
        record = records.get(drift.address)
        kind = f"  ({record.type} as {record.identity})" if record else ""
        lines.append(click.style(f"{word:<19}{drift.address}", fg=colour) + kind)
        if drift.kind == "unchecked":
            lines.append(f"    # {drift.detail}")
        for name, old, new in _old_new(drift, record):
            lines.append(f"    {name}: {old!r} -> online {new!r}")
        if drift.kind == "deleted":
            lines.append(f"    # the plan publishes it again only with `--replace {drift.address}`")
    return "\n".join(lines).rstrip() + "\n"


def drift_markdown(found: Sequence[Drift], records: Mapping[str, Record]) -> str:
    """The drift issue's body: what changed online since the pipeline last sent it."""
    lines = [MARKER_DRIFT, "### pipeline refresh", "", counts(found)]
    for drift in found:
        if drift.kind == "ok":
            continue
        record = records.get(drift.address)
        lines += ["", f"#### {inline(_WORDS[drift.kind][0])}: {inline(drift.address)}"]
        if record is not None:
            where = next((v for k, v in sorted(record.result.items()) if k.endswith("_location")), None)
            lines += ["", f"{inline(record.type)} as **{inline(record.identity)}**"
                      + (f" · {inline(where)}" if where else "")]
        if drift.kind == "unchecked":
            lines += ["", f"_{inline(drift.detail)}_"]
        for name, old, new in _old_new(drift, record):
            spec = catalog.BY_TYPE[record.type].by_name[name] if record else None
            label = f"**{inline(name)}**" + (f" · {len(str(new))}/{spec.max_length}" if spec and spec.max_length else "")
            diff = [f"- {line}" for line in str(old).splitlines() or [""]]
            diff += [f"+ {line}" for line in str(new).splitlines() or [""]]
            lines += ["", label, fenced("\n".join(diff), "diff")]
    return "\n".join(lines) + "\n"
