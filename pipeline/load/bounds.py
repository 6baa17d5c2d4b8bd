"""How big a template's values may grow: checks made *before* each operation that builds one.

A clock checked between operations cannot stop one operation that runs for minutes in
C: ``'{:>999999999}'.format(x)``, ``'x'.ljust(10 ** 9)``, ``[big] * n``, ``(9 ** 256) ** 256``,
``big | indent(10 ** 8)``. So every operation a template can use to build a value is
checked from its inputs before it runs, and every value a template builds is kept
under ``MAX_VALUE``, measured as the text it would print (``weight``). Nested and
shared containers count in full (``[l, l, l]`` weighs three ``l``), so no chain of
small steps builds a value that one conversion to text blows up.

No Jinja here: these are plain functions of Python values, used by ``render``.
"""

from __future__ import annotations

import re
from string import Formatter
from typing import Any, Callable, Iterable, Iterator, Mapping

from pipeline.errors import TooBig

#: Characters of text any one value of a template may hold (the output cap is 64 KiB).
MAX_VALUE = 256 * 1024
#: Bits of any integer a template computes (Python prints at most 4300 digits anyway).
MAX_INT_BITS = 16 * 1024
#: Items a filter may be asked to make up (``batch``'s fill, ``slice``'s columns).
MAX_ITEMS = 100_000
#: Characters of a template's source, checked before it is compiled.
MAX_TEMPLATE_BYTES = 64 * 1024
#: Seconds of CPU between two looks of the signal at a render's clock.
TICK = 0.05
#: Spaces ``tojson`` may indent by per level.
MAX_INDENT = 16

_SIZED = (str, bytes, bytearray)
_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


def weight(value: Any, budget: int = MAX_VALUE, per_level: int = 0) -> int:
    """About how many characters ``value`` prints as, counted only up to ``budget``.

    ``per_level``: characters added per item per level of nesting (an indented dump).
    The walk stops as soon as the count passes ``budget``: it costs at most about
    ``budget`` steps, whatever a shared structure would print as.
    """
    total = 0
    # Each entry: a value, its depth, and the namespaces it is inside (the one way a
    # template can make a cycle: {% set ns.me = [ns] %}, which Python prints as {...}).
    stack: list[tuple[Any, int, frozenset[int]]] = [(value, 0, frozenset())]
    while stack:
        item, depth, within = stack.pop()
        total += per_level * depth
        if isinstance(item, _SIZED):
            total += len(item) + 2
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 2
        elif isinstance(item, Mapping):
            total += 2
            stack.extend((part, depth + 1, within) for pair in item.items() for part in pair)
        elif isinstance(item, (list, tuple, set, frozenset)) or _is_view(item):
            total += 2
            stack.extend((part, depth + 1, within) for part in item)
        else:
            if type(item).__name__ == "Namespace" and id(item) not in within:  # jinja2's namespace()
                stack.append((getattr(item, "_Namespace__attrs", None), depth, within | {id(item)}))
            total += 24  # a number, None, an undefined, a macro...: a short repr
        if total > budget:
            return total
    return total


def _is_view(value: Any) -> bool:
    return type(value).__name__ in ("dict_keys", "dict_values", "dict_items")


def check_value(value: Any, what: str = "a value") -> Any:
    """``value``, if it weighs at most ``MAX_VALUE``."""
    if isinstance(value, _SIZED):
        if len(value) > MAX_VALUE:
            raise TooBig(f"{what} would be {len(value)} characters, over the limit of {MAX_VALUE}")
    elif isinstance(value, int):
        if value.bit_length() > MAX_INT_BITS:
            raise TooBig(f"{what} would be an integer over {MAX_INT_BITS} bits")
    elif weight(value) > MAX_VALUE:
        raise TooBig(f"{what} would print as over {MAX_VALUE} characters")
    return value


def _size(total: int, what: str) -> None:
    if total > MAX_VALUE:
        raise TooBig(f"{what} would exceed {MAX_VALUE} characters")


def _width(value: Any, what: str) -> None:
    if isinstance(value, int) and value > MAX_VALUE:
        raise TooBig(f"{what} {value} is over the limit of {MAX_VALUE}")


def _text(value: Any) -> int:
    return len(value) if isinstance(value, _SIZED) else weight(value)


# ---------------------------------------------------------------- operators


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse ``left <operator> right`` if its result would be over the bounds."""
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(times, int) and isinstance(seq, (*_SIZED, list, tuple)) and times > 1:
                per = len(seq) if isinstance(seq, _SIZED) else weight(seq, MAX_VALUE // times + 1)
                if per * times > MAX_VALUE:
                    raise TooBig("repetition would exceed the output limit")
        if isinstance(left, int) and isinstance(right, int) \
                and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise TooBig(f"the product would be an integer over {MAX_INT_BITS} bits")
    elif operator == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1 \
                and left.bit_length() * right > MAX_INT_BITS:
            raise TooBig(f"the power would be an integer over {MAX_INT_BITS} bits")
    elif operator == "+":
        if isinstance(left, (*_SIZED, list, tuple)) and isinstance(right, (*_SIZED, list, tuple)):
            first = weight(left)
            _size(first + weight(right, MAX_VALUE - first + 1), "the concatenation")
    elif operator == "%" and isinstance(left, _SIZED):
        check_printf(left, right)


def check_printf(template: Any, args: Any) -> None:
    """Refuse a ``%`` format whose widths or precisions add up past the bounds."""
    text = template.decode("latin-1") if isinstance(template, (bytes, bytearray)) else str(template)
    total = len(text)
    for width, precision in _PRINTF.findall(text):
        if "*" in (width, precision):
            raise TooBig("a '*' width or precision is not allowed in a format")
        total += int(width or 0) + int(precision or 0)
    _size(total + _text(args), "the formatted text")


def check_format(template: str, args: Iterable[Any], kwargs: Mapping[str, Any]) -> None:
    """Refuse a ``str.format`` whose widths and precisions add up past the bounds."""
    total = len(template)
    for _, _, spec, _ in Formatter().parse(template):
        if not spec:
            continue
        if "{" in spec:
            raise TooBig("a nested replacement field in a format spec is not allowed")
        total += sum(int(n) for n in re.findall(r"\d+", spec))
        if total > MAX_VALUE:
            break
    _size(total + weight(list(args)) + weight(dict(kwargs)), "the formatted text")


# ---------------------------------------------------------------- methods


def _pad(s: Any, width: Any = 0, *_: Any) -> None:
    _width(width, "a width of")


def _expandtabs(s: Any, tabsize: Any = 8) -> None:
    tab = "\t" if isinstance(s, str) else b"\t"
    if isinstance(tabsize, int):
        _size(len(s) + s.count(tab) * max(tabsize, 0), "expanding the tabs")


def _replace(s: Any, old: Any = "", new: Any = "", count: Any = -1) -> None:
    if not isinstance(s, _SIZED) or not isinstance(old, _SIZED) or not isinstance(new, _SIZED):
        return
    if not isinstance(count, int) or count < 0:
        counted: Any = s  # str with str, bytes with bytes: Python refuses a mix itself
        count = counted.count(old) if old else len(s) + 1
    _size(len(s) + count * max(len(new) - len(old), 0), "the replacement")


def _translate(s: Any, table: Any = None, *_: Any) -> None:
    if isinstance(table, Mapping) and table:
        longest = max((len(v) for v in table.values() if isinstance(v, _SIZED)), default=1)
        _size(len(s) * max(longest, 1), "the translation")


def _to_bytes(n: Any, length: Any = 1, *_: Any, **__: Any) -> None:
    _width(length, "a length of")


def bounded_items(items: Iterable[Any], separator: int = 0, what: str = "the joined text") -> Iterator[Any]:
    """``items``, refusing to go on once their weights (plus a separator each) pass the bound."""
    total = 0
    for item in items:
        total += _text(item) + separator
        _size(total, what)
        yield item


_METHODS: dict[str, Callable[..., None]] = {
    "center": _pad, "ljust": _pad, "rjust": _pad, "zfill": _pad,
    "expandtabs": _expandtabs, "replace": _replace, "translate": _translate,
}


def guard_method(method: Any) -> Any:
    """``method``, or a stand-in that checks its arguments first if it is a method of a
    string or an integer that can build a huge value from small arguments. Applied when a
    template reaches a method, so it holds however the method is then called."""
    owner = getattr(method, "__self__", None)
    name = getattr(method, "__name__", "")
    if isinstance(owner, _SIZED) and (name in _METHODS or name == "join"):
        def checked(*args: Any, **kwargs: Any) -> Any:
            if name == "join" and args:
                args = (bounded_items(args[0], len(owner)), *args[1:])
            else:
                _METHODS[name](owner, *args, **kwargs)
            return method(*args, **kwargs)
        return checked
    if isinstance(owner, int) and name == "to_bytes":
        def to_bytes(*args: Any, **kwargs: Any) -> Any:
            _to_bytes(owner, *args, **kwargs)
            return method(*args, **kwargs)
        return to_bytes
    return method


# ---------------------------------------------------------------- filters


def _indent(s: Any, width: Any = 4, *_: Any, **__: Any) -> None:
    step = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    text = str(s) if isinstance(s, _SIZED) else ""
    _size(_text(s) + (text.count("\n") + 1) * max(step, 0), "the indented text")


def _wordwrap(s: Any, width: Any = 79, break_long_words: Any = True, wrapstring: Any = None,
              *_: Any, **__: Any) -> None:
    size = _text(s)
    lines = size // max(width, 1) + 1 if isinstance(width, int) else size
    _size(size + lines * len(wrapstring if isinstance(wrapstring, str) else "\n"), "the wrapped text")


def _urlize(s: Any, trim_url_limit: Any = None, nofollow: Any = False, target: Any = None,
            rel: Any = None, *_: Any, **__: Any) -> None:
    size = _text(s)
    extra = sum(len(x) for x in (target, rel) if isinstance(x, str)) + 64
    _size(3 * size + (size // 2 + 1) * extra, "the urlized text")


def _count(value: Any, count: Any = 1, *_: Any, **__: Any) -> None:
    if isinstance(count, int) and count > MAX_ITEMS:
        raise TooBig(f"{count} is over the limit of {MAX_ITEMS} items")


def _tojson(value: Any, indent: Any = None, *_: Any) -> None:
    step = len(indent) if isinstance(indent, str) else indent if isinstance(indent, int) else 0
    if step > MAX_INDENT:
        raise TooBig(f"an indent of {step} is over the limit of {MAX_INDENT}")
    _size(weight(value, per_level=step + 1), "the JSON text")


def _pprint(value: Any, *_: Any) -> None:
    _size(weight(value, per_level=2), "the printed text")


def _sum(value: Any, attribute: Any = None, start: Any = 0) -> None:
    if not isinstance(start, (int, float)):
        raise TooBig("sum adds numbers only: join or '+' build text and lists")


def _format(value: Any, *args: Any, **kwargs: Any) -> None:
    check_printf(value, kwargs or args)


_FILTERS: dict[str, Callable[..., None]] = {
    "center": _pad, "indent": _indent, "wordwrap": _wordwrap, "urlize": _urlize, "replace": _replace,
    "batch": _count, "slice": _count, "tojson": _tojson, "pprint": _pprint, "sum": _sum,
    "format": _format,
}


def check_filter(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Check a filter's call (``args[0]`` is the value filtered) before it runs; the
    arguments to call it with."""
    if name == "join" and args:
        separator = args[1] if len(args) > 1 else kwargs.get("d", "")
        return (bounded_items(args[0], len(str(separator))), *args[1:]), kwargs
    check = _FILTERS.get(name)
    if check is not None and args:
        check(*args, **kwargs)
    return args, kwargs


def check_items(items: Iterable[Any], what: str) -> Iterator[Any]:
    """A generator's items (``map``'s), refused once they weigh more than ``MAX_VALUE`` in all."""
    return bounded_items(items, 0, what)
