"""The plain subset of templates, rendered without Jinja: ``{{ name.field }}`` and
``{% include 'file' %}`` between literal text.

Nearly every string of a manifest is in this subset, and compiling a Jinja template
costs about a millisecond a string (rendering a compiled one tens of microseconds).
Here a string is split once per distinct source, and filled from the context with
Jinja's exact output for the subset (a test compares the two over generated
templates). Anything else, and anything whose outcome only Jinja can word (an
undefined name, a value that Jinja prints its own way), is left to Jinja: ``fill``
returns ``None``.

No Jinja here: plain functions of the source text and the context, used by ``render``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from pipeline.errors import RenderError

#: Rendered text larger than this is refused: a post is short, a runaway loop is not.
MAX_OUTPUT_CHARS = 64 * 1024
_SIMPLE = re.compile(
    r"\{\{ *([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*) *\}\}"
    r"|\{% *include +(['\"])([A-Za-z0-9_][A-Za-z0-9_./-]*)\2 *%\}")
MISS = object()
#: The work of a string rendered here, and so without a clock: a step per name looked up
#: and per template included, and one per 256 characters of literal text copied. Past
#: these bounds (a string's, all the strings of a manifest's, all of a run's), Jinja
#: renders the string, on the clock: the time limits bound what this path does not.
PLAIN_STEPS = 2048
PLAIN_FILE_STEPS = 200_000
PLAIN_RUN_STEPS = 20_000_000
#: Distinct sources whose split is remembered.
_REMEMBERED = 8192
#: An include's text, from its name and the context; ``None``: a miss.
Include = Callable[[str, Mapping[str, Any]], "str | None"]


@dataclass(frozen=True, slots=True)
class Plain:
    """A source in the subset: its literal texts, and between each two a name to look up
    (a tuple of its dotted parts) or a template to include (its name)."""

    literals: tuple[str, ...]
    pieces: tuple[tuple[str, ...] | str, ...]
    #: The source ends with a newline, which Jinja drops (``keep_trailing_newline=False``).
    newline: bool
    includes: tuple[str, ...]  # the names of the templates it includes


def parse(source: str) -> Plain | None:
    """``source`` split into the subset's pieces, or ``None`` when it holds anything else."""
    if "\r" in source:  # Jinja normalises newlines: leave that to it
        return None
    # The whole source must be the subset, so that nothing is evaluated for a source that
    # Jinja would refuse as a whole.
    matches = list(_SIMPLE.finditer(source))
    literals = tuple(source[a.end() if a else 0:b.start() if b else len(source)]
                     for a, b in zip([None, *matches], [*matches, None]))
    if any("{" in literal or "}" in literal for literal in literals):
        return None  # another construct, or a brace beside a tag that changes the lexing
    pieces = tuple(tuple(m.group(1).split(".")) if m.group(1) else m.group(3) for m in matches)
    return Plain(literals, pieces, source.endswith("\n"), tuple(p for p in pieces if isinstance(p, str)))


def fill(plain: Plain, context: Mapping[str, Any], include: Include) -> str | None:
    """The text of ``plain`` in ``context``, each include's text from ``include``; ``None``
    where a name or an include is a miss (Jinja knows what to do with it).

    Raises:
        RenderError: the text would be over ``MAX_OUTPUT_CHARS`` (every piece is
            evaluated first, in order, as before: an include's own failure comes first).
    """
    first = plain.literals[0]
    out = [first]
    size = len(first)
    for piece, literal in zip(plain.pieces, plain.literals[1:]):
        if isinstance(piece, tuple):
            value = lookup(piece, context)
            if value is MISS:
                return None
            text = str(value)
        else:
            included = include(piece, context)
            if included is None:
                return None
            text = included
        size += len(text) + len(literal)
        if size <= MAX_OUTPUT_CHARS + plain.newline:
            out += (text, literal)  # past the bound, nothing is kept: it is refused below
    # Measured before it is joined: a text over the bound is never built.
    if size - plain.newline > MAX_OUTPUT_CHARS:
        raise RenderError(f"template output exceeds {MAX_OUTPUT_CHARS} characters")
    text = "".join(out)
    return text[:-1] if plain.newline else text  # the source's last newline, which ends a literal


class Sources:
    """Sources split into the subset, each once: the strings rendered, and the templates
    they include (read by ``read``, a name's source or ``None``)."""

    def __init__(self, read: Callable[[str], str | None]) -> None:
        self._read = read
        self._split: dict[str, Plain | None] = {}
        self._ready: dict[str, tuple[Plain, Include, int] | None] = {}
        self._included: dict[str, Plain | None] = {}
        #: Steps taken for the current manifest's strings, and for all of this run's.
        self.file_steps = 0
        self.run_steps = 0

    def parsed(self, source: str) -> Plain | None:
        if source not in self._split:
            if len(self._split) >= _REMEMBERED:
                self._split.clear()
            self._split[source] = parse(source)
        return self._split[source]

    def render(self, source: str, context: Mapping[str, Any]) -> str | None:
        """``source`` rendered here when it and what it includes are plain (each included
        template plain too, including nothing), in at most ``PLAIN_STEPS``; else ``None``."""
        if source not in self._ready:
            if len(self._ready) >= _REMEMBERED:
                self._ready.clear()
            self._ready[source] = self._prepare(source)
        ready = self._ready[source]
        if ready is None or self.file_steps + ready[2] > PLAIN_FILE_STEPS \
                or self.run_steps + ready[2] > PLAIN_RUN_STEPS:
            return None
        self.file_steps += ready[2]
        self.run_steps += ready[2]
        return fill(ready[0], context, ready[1])

    def _prepare(self, source: str) -> tuple[Plain, Include, int] | None:
        parsed = self.parsed(source)
        if parsed is None:
            return None
        steps = _steps(parsed)
        includes: dict[str, Plain] = {}
        for name in parsed.includes:
            included = self._include(name)
            if included is None:
                return None
            includes[name] = included
            steps += _steps(included) + 1
        if steps > PLAIN_STEPS:
            return None
        return parsed, lambda name, context: fill(includes[name], context, _no_include), steps

    def _include(self, name: str) -> Plain | None:
        if name not in self._included:
            text = self._read(name)
            parsed = None if text is None else parse(text)
            self._included[name] = None if parsed is None or parsed.includes else parsed
        return self._included[name]


def _steps(plain: Plain) -> int:
    return len(plain.pieces) + sum(map(len, plain.literals)) // 256


def _no_include(name: str, context: Mapping[str, Any]) -> None:
    return None  # a plain template includes nothing


def lookup(path: tuple[str, ...], context: Mapping[str, Any]) -> Any:
    """``a.b.c`` as the sandbox resolves it, for plain data: an attribute of the object
    would win over an item in Jinja (``links.items``), so any such name is a miss."""
    first = path[0]
    if first not in context:
        return MISS  # maybe a global, maybe undefined: Jinja knows
    value = context[first]
    for name in path[1:]:
        if hasattr(value, name) or not isinstance(value, dict) or name not in value:
            return MISS
        value = value[name]
    if not isinstance(value, (str, int, float, bool)):
        return MISS  # str() of containers and None: let Jinja print them its way
    return value
