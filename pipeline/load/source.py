"""YAML files -> plain data, with the position of every key and value.

A YAML library composes the node graph; we build the Python data ourselves so that
we can refuse what a publishing manifest never needs and an attacker loves: anchors
and aliases (billion-laughs), custom tags, duplicate keys. Plain scalars are resolved
here, by YAML 1.2's core schema, whatever the library: ``yes`` stays a string, and
only plain decimal is a number (an unquoted id never turns into another id);
timestamps stay strings (pydantic parses them, with an offset).

Two paths, one result. The fast one composes with libyaml (PyYAML's C loader), about
twenty times faster than pure Python; ruamel.yaml takes over for any file that uses,
or might use, what we refuse (anchors, aliases, tags, merge keys) or that does not parse, so
every refusal and every syntax error is reported by one precise, well-tested path.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Any

import yaml as pyyaml

from pipeline.errors import Diagnostic, Location, Refused, UserError, YamlRefused
from pipeline.load.reads import read_capped, resolve_inside

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32

Loc = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
#: How a plain scalar that is not text begins (a null, a bool, a number, .inf or .nan).
_MAY_RESOLVE = frozenset("~nNtTfF0123456789+-.")
_SPECIAL = {".inf": math.inf, ".Inf": math.inf, ".INF": math.inf, "+.inf": math.inf,
            "+.Inf": math.inf, "+.INF": math.inf, "-.inf": -math.inf, "-.Inf": -math.inf,
            "-.INF": -math.inf, ".nan": math.nan, ".NaN": math.nan, ".NAN": math.nan}
#: Where an anchor, alias or tag may start (after a space, a flow indicator, a JSON-like
#: key's colon or a byte order mark): such text is read by the precise path. (An alias
#: also shows on the fast path, as a node met twice, and a merge key as a tag the fast
#: path refuses.)
_PRECISE = re.compile(r"(?:^|[\s\[\]{},:\ufeff])[&*!]")
_BEFORE = frozenset("[]{},:\ufeff")
_STANDARD_TAGS = frozenset(_TAG + t for t in ("str", "null", "bool", "int", "float", "timestamp", "value"))
_STR, _MAP, _SEQ, _MERGE = (_TAG + t for t in ("str", "map", "seq", "merge"))
try:
    from yaml import cyaml as _cyaml  # PyYAML built with libyaml
    _CParser: Any = getattr(_cyaml, "CParser")
except ImportError:  # pragma: no cover - then every file takes the precise path
    _CParser = None


class _Composer(_CParser or object):  # type: ignore[misc]
    """libyaml's composer, with YAML 1.2 left to ``_scalar``: every implicit scalar is a
    string here but for a merge key, which is refused (PyYAML's resolver would match
    each scalar against YAML 1.1's patterns, in Python, only for us to ignore them)."""

    def resolve(self, kind: Any, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is pyyaml.ScalarNode:
            return _MERGE if value == "<<" and implicit[0] else _STR
        return _SEQ if kind is pyyaml.SequenceNode else _MAP

    def descend_resolver(self, parent: Any, index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class Document:
    """One loaded YAML file: its data, and its node tree to tell where a piece was written.

    Positions are looked up only when something must be located (an error), by walking
    the nodes: nothing is spent on them for the files that are fine.
    """

    path: str  # as shown to the user: relative to the project
    data: Any
    root: Any = None

    def _walk(self, loc: Loc) -> tuple[Any, Any, int]:
        """The key node and value node of the longest prefix of ``loc`` that exists."""
        key_node, node, depth = None, self.root, 0
        for part in loc:
            if node is None:
                break
            if node.id == "mapping":
                for key, value in node.value:
                    if key.value == part:
                        key_node, node = key, value
                        break
                else:
                    break
            elif node.id == "sequence" and isinstance(part, int) and 0 <= part < len(node.value):
                key_node, node = None, node.value[part]
            else:
                break
            depth += 1
        return key_node, node, depth

    def locate(self, loc: Loc, *, key: bool = False) -> Location:
        """The position of ``loc`` (of its key, with ``key``), or of its nearest parent
        that exists."""
        if self.root is None:
            return Location(self.path, 1, 1)
        key_node, node, _ = self._walk(loc)
        if key_node is not None and (key or (node.id == "scalar" and node.value == "" and not node.style)):
            # An empty value's mark is the next token, maybe lines below: use the key's.
            return Location(self.path, *_pos(key_node))
        return Location(self.path, *_pos(node))

    def is_block(self, loc: Loc) -> bool:
        """Whether ``loc`` is a block scalar (| or >), whose text starts a line below."""
        _, node, depth = self._walk(loc)
        return depth == len(loc) and node is not None and node.id == "scalar" and node.style in ("|", ">")


def read_text(path: str | os.PathLike[str], shown: str, *, inside: tuple[str, str] | None = None,
              vetted: bool = False) -> str:
    """A user's file as text: a regular file, size-capped before it is read, UTF-8.

    ``inside``: the real path of the folder the file must really be in, and its name as
    messages show it. ``vetted``: ``path`` is a real path that a scan of that folder just
    found to be a regular file in it (no ``realpath`` again: thousands of manifests).

    Raises:
        UserError: at ``shown``, when the file is refused, unreadable or not UTF-8.
    """
    try:
        real = os.fspath(path)
        if inside is not None and not vetted:
            real = resolve_inside(real, *inside)
        raw = read_capped(real, MAX_FILE_BYTES, checked=vetted)
    except Refused as refused:
        raise UserError(Diagnostic(f"file {refused.message}", Location(shown))) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise UserError(Diagnostic("file is not valid UTF-8", Location(shown, line, col))) from None


def load(path: str | os.PathLike[str], shown: str, *, inside: tuple[str, str] | None = None,
         vetted: bool = False) -> Document:
    """Read (as ``read_text``) and parse one YAML file; an empty file is an empty mapping."""
    return parse(read_text(path, shown, inside=inside, vetted=vetted), shown)


def parse(text: str, shown: str) -> Document:
    """Parse YAML text into a ``Document``; every refusal is a ``UserError`` at its line."""
    if _CParser is not None and not _may_refer(text):
        composer = _Composer(text)
        try:
            root = composer.get_single_node()
        except (pyyaml.YAMLError, RecursionError):
            pass  # let the precise path word the error
        else:
            try:
                # No '*' at all: no alias, so no node can be met twice.
                return Document(shown, {}) if root is None else \
                    Document(shown, _build(root, 0, set() if "*" in text else None), root)
            except YamlRefused:
                pass  # the precise path says it, from ruamel's marks
        finally:
            composer.dispose()
    return _parse_precise(text, shown)


def _may_refer(text: str) -> bool:
    """Whether an anchor, alias or tag may start in ``text`` (``_PRECISE``): looked for
    at each '&', '*' and '!' (texts hold few), by the pattern when there are many."""
    for mark in "&*!":
        at = text.find(mark)
        for _ in range(16):
            if at < 0:
                break
            if at == 0 or text[at - 1].isspace() or text[at - 1] in _BEFORE:
                return True
            at = text.find(mark, at + 1)
        else:
            return _PRECISE.search(text) is not None
    return False


def _parse_precise(text: str, shown: str) -> Document:
    from ruamel.yaml import YAML  # only for the few files that need it
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

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
    try:
        return _document(root, shown)
    except YamlRefused as refused:
        mark = refused.node.start_mark
        raise UserError(Diagnostic(refused.message, Location(shown, mark.line + 1, mark.column + 1))) from None


def _document(root: Any, shown: str) -> Document:
    if root is None:
        return Document(shown, {})
    return Document(shown, _build(root, 0, set()), root)


def _pos(node: Any) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _build(node: Any, depth: int, seen: set[int] | None) -> Any:
    # ruamel keeps anchors on nodes; libyaml's composer shares the node an alias points
    # at, which shows as the same node met twice (``seen`` is None where no alias can be).
    if seen is not None:
        if getattr(node, "anchor", None) or id(node) in seen:
            raise YamlRefused("YAML anchors and aliases are not allowed: write each value out", node)
        seen.add(id(node))
    if depth > MAX_DEPTH:
        raise YamlRefused(f"YAML nested too deeply (limit {MAX_DEPTH})", node)
    kind = node.id
    if kind == "scalar":
        return _scalar(node)
    if kind == "mapping":
        if node.tag != _MAP:
            raise YamlRefused(f"YAML tag {node.tag!r} is not allowed", node)
        out: dict[str, Any] = {}
        inner = depth + 1
        flat = seen is None and inner <= MAX_DEPTH  # then a scalar needs no other check
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                raise YamlRefused("YAML merge keys (<<) are not allowed", key_node)
            key = _scalar(key_node) if flat and key_node.id == "scalar" else _build(key_node, inner, seen)
            if not isinstance(key, str):
                raise YamlRefused(f"mapping keys must be strings, got {key!r}", key_node)
            if key in out:
                raise YamlRefused(f"duplicate key {key!r}", key_node)
            out[key] = _scalar(value_node) if flat and value_node.id == "scalar" else _build(value_node, inner, seen)
        return out
    if node.tag != _SEQ:
        raise YamlRefused(f"YAML tag {node.tag!r} is not allowed", node)
    return [_build(item, depth + 1, seen) for item in node.value]


def _scalar(node: Any) -> Any:
    tag, text = node.tag, node.value
    if tag not in _STANDARD_TAGS:
        raise YamlRefused(f"YAML tag {tag!r} is not allowed", node)
    if node.style:  # quoted or block: always text
        return text
    # Plain: YAML 1.2's core schema, resolved here so both loaders agree.
    if text and text[0] not in _MAY_RESOLVE:
        return text
    if text in _NULL:
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT.match(text):
        if len(text) > 64:  # Python refuses to read over 4300 digits; no id or count needs 64
            raise YamlRefused(f"a number of {len(text)} digits: write it in quotes if it is text", node)
        return int(text)
    if text in _SPECIAL:
        return _SPECIAL[text]
    if _FLOAT.match(text) and not text.lstrip("+-").isdigit():
        return float(text)
    return text
