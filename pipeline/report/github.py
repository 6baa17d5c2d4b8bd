"""GitHub Actions: workflow commands for errors, and the job summary.

Escaping follows GitHub's own toolkit (@actions/core): in a command's message ``%``,
CR and LF are escaped; in its properties also ``:`` and ``,``.
"""

from __future__ import annotations

import os
from typing import Mapping

from pipeline.errors import Diagnostic
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
