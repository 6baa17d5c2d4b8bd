"""YAML files -> plain data, with the position of every key and value.

ruamel.yaml composes the node graph; we build the Python data ourselves so that we
can refuse what a publishing manifest never needs and an attacker loves: anchors and
aliases (billion-laughs), custom tags, duplicate keys. Scalars follow YAML 1.2's core
schema, except that timestamps stay strings (pydantic parses them, with an offset).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, nodes
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .errors import Diagnostic, Location, UserError

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32

Loc = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")


class _Refused(Exception):
    def __init__(self, message: str, node: nodes.Node) -> None:
        self.message = message
        self.node = node


@dataclass(frozen=True, slots=True)
class Document:
    """One loaded YAML file: its data and where each piece of it was written."""

    path: str  # as shown to the user: relative to the project
    data: Any
    #: loc -> (line, col) of the key (for mapping entries) and of the value, 1-based.
    keys: dict[Loc, tuple[int, int]]
    values: dict[Loc, tuple[int, int]]
    #: Block scalars (| and >): their text starts on the line after the position.
    blocks: frozenset[Loc] = frozenset()

    def locate(self, loc: Loc, *, key: bool = False) -> Location:
        """The position of ``loc``, or of its nearest parent that exists."""
        table = self.keys if key else self.values
        while loc:
            if loc in table:
                return Location(self.path, *table[loc])
            if key and loc in self.values:
                return Location(self.path, *self.values[loc])
            loc = loc[:-1]
        return Location(self.path, *self.values.get((), (1, 1)))


def read_text(path: Path, shown: str) -> str:
    """A user's file as text: size-capped, UTF-8 or a clear error."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UserError(Diagnostic(
                f"file is {size} bytes, over the limit of {MAX_FILE_BYTES}", Location(shown)))
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(Diagnostic(f"cannot read: {exc.strerror}", Location(shown))) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise UserError(Diagnostic("file is not valid UTF-8", Location(shown, line, col))) from None


def load(path: Path, shown: str) -> Document:
    """Read and parse one YAML file; an empty file is an empty mapping."""
    return parse(read_text(path, shown), shown)


def parse(text: str, shown: str) -> Document:
    # The safe loader composes without round-trip markers (the rt one marks folds with \a).
    yaml = YAML(typ="safe", pure=True)
    try:
        root = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(shown, mark.line + 1, mark.column + 1) if mark else Location(shown)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise UserError(Diagnostic(f"invalid YAML: {problem}", where)) from None
    except YAMLError as exc:
        raise UserError(Diagnostic(f"invalid YAML: {exc}", Location(shown))) from None
    except RecursionError:
        raise UserError(Diagnostic(f"YAML nested too deeply (limit {MAX_DEPTH})", Location(shown))) from None
    keys: dict[Loc, tuple[int, int]] = {}
    values: dict[Loc, tuple[int, int]] = {}
    blocks: set[Loc] = set()
    if root is None:
        return Document(shown, {}, keys, values)
    try:
        data = _build(root, (), keys, values, blocks)
    except _Refused as refused:
        mark = refused.node.start_mark
        raise UserError(Diagnostic(refused.message, Location(shown, mark.line + 1, mark.column + 1))) from None
    return Document(shown, data, keys, values, frozenset(blocks))


def _pos(node: nodes.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _build(node: nodes.Node, loc: Loc, keys: dict[Loc, tuple[int, int]],
           values: dict[Loc, tuple[int, int]], blocks: set[Loc]) -> Any:
    if getattr(node, "anchor", None):
        raise _Refused("YAML anchors and aliases are not allowed: write each value out", node)
    if len(loc) > MAX_DEPTH:
        raise _Refused(f"YAML nested too deeply (limit {MAX_DEPTH})", node)
    values[loc] = _pos(node)
    if isinstance(node, nodes.MappingNode):
        if node.tag != _TAG + "map":
            raise _Refused(f"YAML tag {node.tag!r} is not allowed", node)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                raise _Refused("YAML merge keys (<<) are not allowed", key_node)
            key = _build(key_node, loc + ("<key>",), {}, {}, set())
            if not isinstance(key, str):
                raise _Refused(f"mapping keys must be strings, got {key!r}", key_node)
            if key in out:
                raise _Refused(f"duplicate key {key!r}", key_node)
            keys[loc + (key,)] = _pos(key_node)
            out[key] = _build(value_node, loc + (key,), keys, values, blocks)
            if isinstance(value_node, nodes.ScalarNode) and value_node.value == "" and not value_node.style:
                # An empty value's mark is the next token, maybe lines below: use the key's line.
                values[loc + (key,)] = _pos(key_node)
        return out
    if isinstance(node, nodes.SequenceNode):
        if node.tag != _TAG + "seq":
            raise _Refused(f"YAML tag {node.tag!r} is not allowed", node)
        return [_build(item, loc + (i,), keys, values, blocks) for i, item in enumerate(node.value)]
    if node.style in ("|", ">"):
        blocks.add(loc)
    return _scalar(node)


def _scalar(node: nodes.Node) -> Any:
    tag, text = node.tag, node.value
    if tag in (_TAG + "str", _TAG + "timestamp"):
        return text
    if tag == _TAG + "null":
        return None
    if tag == _TAG + "bool":
        return text.lower() == "true"
    if tag == _TAG + "int":
        # Only plain decimal is a number: 0123, 0x1F or 1_000 are kept as written, since
        # an unquoted id must never turn into another id.
        return int(text) if _INT.match(text) else text
    if tag == _TAG + "float":
        lowered = text.lower()
        if lowered.endswith((".inf", ".nan")):
            return -math.inf if lowered.startswith("-") else math.inf if "inf" in lowered else math.nan
        try:
            return float(text)
        except ValueError:
            return text
    raise _Refused(f"YAML tag {tag!r} is not allowed", node)
