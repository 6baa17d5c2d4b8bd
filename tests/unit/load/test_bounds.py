"""Bounds on a template's values: measured without building them, checked before each step."""

from __future__ import annotations

import time

import pytest

from pipeline.load import bounds
from pipeline.errors import TooBig
from pipeline.load.bounds import MAX_VALUE, weight


def test_weight_counts_shared_parts_in_full_and_stops_at_its_budget() -> None:
    leaf = ["x" * 100] * 8
    tree: list[object] = leaf
    for _ in range(12):  # 8 ** 13 leaves: printing it would take petabytes
        tree = [tree] * 8
    started = time.process_time()
    assert weight(tree) > MAX_VALUE
    assert time.process_time() - started < 0.5


def test_weight_is_about_the_printed_length() -> None:
    value = {"a": [1, "bc", 3.5], "d": None}
    assert abs(weight(value) - len(str(value))) < 60


@pytest.mark.parametrize(("operator", "left", "right"), [
    ("*", "ab", 10 ** 6), ("*", 10 ** 6, [1]), ("*", 1 << 9000, 1 << 9000), ("**", 1 << 1000, 250),
    ("+", "x" * 200_000, "y" * 200_000), ("%", "%999999s", "x"), ("%", b"%999999s", b"x"), ("%", "%*d", (9, 1)),
], ids=["str-times", "int-times-list", "int-product", "power", "concat", "printf", "bytes-printf", "star-width"])
def test_a_binary_operation_over_the_bounds_is_refused(operator: str, left: object, right: object) -> None:
    with pytest.raises(TooBig):
        bounds.check_binop(operator, left, right)


@pytest.mark.parametrize(("operator", "left", "right"), [
    ("*", "ab", 1000), ("*", 3, [1, 2]), ("**", 2, 64), ("+", "a", "b"), ("%", "%5s|%-3d", ("a", 1)), ("*", 1.5, 10 ** 9),
])
def test_an_ordinary_operation_is_allowed(operator: str, left: object, right: object) -> None:
    bounds.check_binop(operator, left, right)


@pytest.mark.parametrize(("method", "args"), [
    ("x".ljust, (10 ** 8,)), ("x".center, (10 ** 8, "-")), (b"x".zfill, (10 ** 8,)), ("\t\t".expandtabs, (10 ** 6,)),
    ("ab".replace, ("", "x" * 200_000)), ((7).to_bytes, (10 ** 8, "big")),
])
def test_a_method_is_checked_however_it_is_called(method: object, args: tuple[object, ...]) -> None:
    guarded = bounds.guard_method(method)
    assert guarded is not method
    with pytest.raises(TooBig):
        guarded(*args)  # type: ignore[operator]


def test_join_counts_its_items_as_it_takes_them() -> None:
    joined = bounds.guard_method(",".join)
    with pytest.raises(TooBig):
        joined("x" * 1000 for _ in range(10 ** 6))
    assert bounds.guard_method(",".join)(["a", "b"]) == "a,b"


def test_a_method_that_cannot_grow_is_left_as_is() -> None:
    upper = "x".upper
    assert bounds.guard_method(upper) is upper


ORDINARY = [  # what posts use keeps working inside the bounds
    ("{% for i in items %}{{ loop.index }}{{ loop.cycle('a', 'b') }}{% if not loop.last %},{% endif %}{% endfor %}",
     "1a,2b,3a"),
    ("{% for n in tree recursive %}{{ n.name }}{% if n.kids %}({{ loop(n.kids) }}){% endif %}{% endfor %}", "a(bc)d"),
    ("{% macro tag(x) %}#{{ x|replace(' ', '') }}{% endmacro %}{{ tag('Acme Rocket') }} {{ tag('b') }}", "#AcmeRocket #b"),
    ("{% set ns = namespace(n=0) %}{% for i in items %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}", "6"),
    ("{% set ns = namespace(a=1) %}{% set ns.me = [ns] %}{{ [ns]|length }}", "1"),
    ("{{ [missing]|length }} {{ missing|default('d') }}", "1 d"),
    ("{{ '%s is %d%%' % ('x', 5) }} {{ '{:>4}|{:.2f}'.format('a', 1.5) }} {{ 'x'.center(5, '-') }}", "x is 5% ___a|1.50 --x--"
     .replace("_", " ")),
    ("{{ items|map('string')|join(', ') }} {{ items|sum }} {{ (items * 2)|length }} {{ 'ab' * 3 }}", "1, 2, 3 6 6 ababab"),
    ("{{ {'a': 1}|tojson }} {{ 'Hello World'|wordwrap(5) }} {{ 'a\nb'|indent(2) }}", '{"a": 1} Hello\nWorld a\n  b'),
    ("{{ (2 ** 64) * 3 }} {{ 'x' ~ 1 ~ [2] }} {{ range(3)|list }} {{ dict(a=1) }}", "55340232221128654848 x1[2] [0, 1, 2] {'a': 1}"),
]


@pytest.mark.parametrize(("source", "expected"), ORDINARY)
def test_ordinary_templates_render_as_before(source: str, expected: str) -> None:
    from pipeline.load.render import Renderer

    context = {"items": [1, 2, 3], "tree": [{"name": "a", "kids": [{"name": "b", "kids": []}, {"name": "c", "kids": []}]}, {"name": "d", "kids": []}]}
    assert Renderer(None).render(source, context) == expected
