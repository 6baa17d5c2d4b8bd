"""Pydantic errors -> diagnostics at ``file:line:col``, worded for the people who write manifests."""

from __future__ import annotations

from typing import Any, Iterable

from pydantic import ValidationError

from pipeline.errors import Diagnostic, Location, RenderError
from pipeline.load.source import Document, Loc


def _field_name(loc: Loc) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    return parts[-1] if parts else "value"


def _message(err: Any, loc: Loc, what: str, allowed: Iterable[str]) -> str:
    kind = err["type"]
    name = _field_name(loc)
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "extra_forbidden":
        choices = ", ".join(sorted(allowed))
        return f"unknown field {name!r} for {what}" + (f" (allowed: {choices})" if choices else "")
    if kind == "missing":
        return f"missing required field {name!r} for {what}"
    if kind == "string_too_long":
        return (f"{name!r} is {len(value)} characters after rendering; "
                f"{what} allows at most {ctx.get('max_length')}")
    if kind == "too_long":
        return f"{name!r} has {len(value)} items; {what} allows at most {ctx.get('max_length')}"
    if kind == "literal_error":
        return f"{name!r} must be {ctx.get('expected')}, got {value!r}"
    if kind == "string_pattern_mismatch":
        return f"{name!r} has an invalid form: {value!r}"
    if kind in ("value_error", "assertion_error"):
        text = str(err["msg"]).removeprefix("Value error, ")
        return f"{name!r} {text}" if err["loc"] else f"{what}: {text}"
    return f"{name!r}: {err['msg']}"


def _at(data: Any, loc: Loc) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def diagnostics_from(exc: ValidationError | list[Any], doc: Document, prefix: Loc, *, what: str,
                     allowed: Iterable[str] = ()) -> list[Diagnostic]:
    """One diagnostic per pydantic error, located in ``doc`` under ``prefix``."""
    allowed = tuple(allowed)
    errors = exc.errors(include_url=False) if isinstance(exc, ValidationError) else exc
    out: list[Diagnostic] = []
    for err in errors:
        # Inside a union pydantic names the member ("Ref") in the loc: not a key of the file.
        loc = prefix + tuple(p for p in err["loc"] if p != "Ref")
        if err["type"] == "missing":  # point at the mapping that lacks it, by its key
            where = doc.locate(loc[:-1], key=True)
        elif isinstance(_at(doc.data, loc), dict):  # about a whole mapping: point at its key
            where = doc.locate(loc, key=True)
        else:
            where = doc.locate(loc, key=err["type"] == "extra_forbidden")
        out.append(Diagnostic(_message(err, loc, what, allowed), where))
    return out


def render_diagnostic(exc: RenderError, doc: Document, loc: tuple[Any, ...]) -> Diagnostic:
    """A template's failure at the user's line: in the template file it came from, or at
    the manifest string's own line (counted inside the string)."""
    if exc.template:
        return Diagnostic(exc.message, Location(f"content/templates/{exc.template}", exc.line or 0, 1))
    where = doc.locate(loc)
    # A syntax error's line counts inside the string; a block scalar's text starts one
    # line below its | or > indicator.
    below = 1 if doc.is_block(loc) else 0
    if exc.line and (exc.line > 1 or below):
        where = Location(where.path, where.line + exc.line - 1 + below, 1)
    return Diagnostic(exc.message, where)
