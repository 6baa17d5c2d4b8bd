"""GitHub Actions: workflow commands for errors and warnings, the job summary, step outputs.

Escaping follows GitHub's own toolkit (@actions/core): in a command's message ``%``,
CR and LF are escaped; in its properties also ``:`` and ``,``.
"""

from __future__ import annotations

import json
import os
from typing import Mapping

from pipeline.apply.results import ApplyResult
from pipeline.errors import Diagnostic
from pipeline.model.plan import CHANGE_KINDS, Plan
from pipeline.report.safe import escape_controls


def escape_data(text: str) -> str:
    """A command's message, escaped as the toolkit does; other control and bidirectional
    characters shown as visible escapes, so that an annotation reads as what it is."""
    escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return escape_controls(escaped)


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def active(env: Mapping[str, str] | None = None) -> bool:
    """Whether this run is a GitHub Actions job."""
    return (os.environ if env is None else env).get("GITHUB_ACTIONS") == "true"


def error_command(diagnostic: Diagnostic) -> str:
    """``::error file=…,line=…,col=…::message``: an annotation on the file's line in the PR."""
    props = []
    if diagnostic.location is not None:
        props.append(f"file={escape_property(diagnostic.location.path)}")
        if diagnostic.location.line:
            props.append(f"line={diagnostic.location.line}")
            props.append(f"col={diagnostic.location.col}")
    message = diagnostic.message + (f" (hint: {diagnostic.hint})" if diagnostic.hint else "")
    return f"::error {','.join(props)}::{escape_data(message)}" if props else f"::error::{escape_data(message)}"


def warning_command(message: str, path: str | None = None) -> str:
    """``::warning file=…::message``: an annotation on a file of the pull request."""
    where = f" file={escape_property(path)}" if path else ""
    return f"::warning{where}::{escape_data(message)}"


def summary_path(env: Mapping[str, str] | None = None) -> str | None:
    """The job summary's file, when this run has one."""
    return (os.environ if env is None else env).get("GITHUB_STEP_SUMMARY") or None


def append_summary(markdown: str, env: Mapping[str, str] | None = None) -> bool:
    """Append to the job summary when ``GITHUB_STEP_SUMMARY`` names one."""
    path = summary_path(env)
    if not path:
        return False
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(markdown.rstrip("\n") + "\n\n")
    return True


#: The plan kinds that wait on a person: each pending one becomes a warning annotation.
ATTENTION = {
    "changed": "published, and now rendered differently in a way OneAll cannot edit: nothing is sent",
    "orphan": "published, and in no manifest any more: the post stays online",
    "unknown": "a request went out and its answer never came: nothing is sent again blindly",
    "overdue": "its publish_at passed longer ago than late_after: it is not published unless asked",
}


def attention_commands(plan: Plan) -> list[str]:
    """``::warning`` annotations for the changes that need a person's decision, each on
    its manifest's line where it has one."""
    out = []
    for change in plan.changes:
        why = ATTENTION.get(change.kind)
        if why is None or (change.kind == "orphan" and change.record is not None
                           and change.record.status == "deleted"):
            continue
        message = f"{change.kind} {change.key}: {why}" + (f" ({change.reason})" if change.reason else "")
        props = ""
        if change.source:
            path, line, col = _split_source(change.source)
            props = f" file={escape_property(path)}" + (f",line={line},col={col}" if line else "")
        out.append(f"::warning{props}::{escape_data(message)}")
    return out


def _split_source(source: str) -> tuple[str, int, int]:
    parts = source.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        return parts[0], int(parts[1]), int(parts[2])
    return source, 0, 0


def plan_outputs(plan: Plan) -> dict[str, str]:
    """Step outputs of ``pipeline plan``: whether apply has something to send, and the
    count of each kind (also all together, as JSON)."""
    counts = {kind: plan.count(kind) for kind in CHANGE_KINDS}
    attention = sum(1 for c in plan.changes if c.kind in ATTENTION
                    and not (c.kind == "orphan" and c.record is not None and c.record.status == "deleted"))
    return {"pending": "true" if plan.pending else "false", "counts": json.dumps(counts, sort_keys=True),
            "attention": str(attention), **{kind: str(n) for kind, n in counts.items()}}


def apply_outputs(result: ApplyResult | None) -> dict[str, str]:
    """Step outputs of ``pipeline apply``; ``sent`` counts every request that went out or
    may have (an unknown outcome), which a workflow needs to know if the state is lost."""
    if result is None:
        return {"sent": "0", "published": "0", "edited": "0", "deleted": "0", "failed": "0", "unknown": "0"}
    counts = {"published": len(result.published), "edited": len(result.edited), "deleted": len(result.deleted),
              "failed": len(result.failed), "unknown": len(result.unknown)}
    sent = counts["published"] + counts["edited"] + counts["deleted"] + counts["unknown"]
    return {"sent": str(sent), **{k: str(v) for k, v in counts.items()}}


def append_outputs(values: Mapping[str, str], env: Mapping[str, str] | None = None) -> bool:
    """Append step outputs to ``GITHUB_OUTPUT`` when it names a file (values are one line)."""
    path = (os.environ if env is None else env).get("GITHUB_OUTPUT")
    if not path:
        return False
    with open(path, "a", encoding="utf-8") as fh:
        for name, value in values.items():
            fh.write(f"{name}={' '.join(value.splitlines())}\n")
    return True
