"""YAML loading: the fast (libyaml) and precise (ruamel) paths give the same documents."""

from __future__ import annotations

import math

import pytest

from pipeline.load import source
from pipeline.errors import UserError, YamlRefused

SNIPPETS = [
    "a: yes\nb: no\nc: on\nd: off\ne: y\n",
    "ids: [0123, 0x1F, 0o17, 1_000, 108374982736451, -5, +7, 0]\n",
    "floats: [1.5, -0.5, 1e3, .inf, -.Inf, .nan, 1.]\n",
    "nulls: [~, null, Null, NULL, '', \"\"]\nempty:\nafter: 1\n",
    "bools: [true, True, TRUE, false, False, FALSE]\n",
    "when: 2026-12-01T09:00:00+01:00\nday: 2026-12-01\ntime: 12:30\n",
    "text: |\n  line one\n  line two\nfolded: >-\n  folded\n  text\nkeep: |+\n  kept\n\n",
    "flow: {a: 1, b: [x, 'y', \"z\"]}\n# a comment\nlist:\n  - one  # trailing\n  - two\n",
    "unicode: héllo wörld 🚀\nquoted: 'it''s'\nescaped: \"tab\\there\"\n",
    "nested:\n  deeper:\n    deepest: [1, [2, [3]]]\n",
    "equals: =\nsexagesimal: 1:20\ncolon: a:b\n",
    "",
    "# only a comment\n",
]


@pytest.mark.parametrize("text", SNIPPETS)
def test_both_paths_agree(text: str) -> None:
    fast = source.parse(text, "x.yaml")
    precise = source._parse_precise(text, "x.yaml")
    assert repr(fast.data) == repr(precise.data)  # repr: nan != nan
    for loc in _locs(fast.data):
        for key in (False, True):
            assert fast.locate(loc, key=key) == precise.locate(loc, key=key), loc
        assert fast.is_block(loc) == precise.is_block(loc)


def _locs(data: object, loc: tuple = ()) -> list[tuple]:
    out = [loc]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _locs(v, loc + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _locs(v, loc + (i,))
    return out


def test_core_schema_scalars() -> None:
    data = source.parse(SNIPPETS[0] + SNIPPETS[1] + SNIPPETS[2].replace("floats", "f"), "x.yaml").data
    assert data["a"] == "yes" and data["c"] == "on"
    assert data["ids"] == ["0123", "0x1F", "0o17", "1_000", 108374982736451, -5, 7, 0]
    assert data["f"][:3] == [1.5, -0.5, 1000.0] and data["f"][3] == math.inf and math.isnan(data["f"][5])


@pytest.mark.parametrize(("text", "message"), [
    ("a: &x 1\nb: *x\n", "x.yaml:1:4: YAML anchors and aliases are not allowed"),
    ("a: !!python/name:os.system x\n", "x.yaml:1:4: YAML tag"),
    ("a: 1\na: 2\n", "x.yaml:2:1: duplicate key 'a'"),
    ("base: {x: 1}\nother:\n  <<: {y: 2}\n", "x.yaml:3:3: YAML merge keys (<<) are not allowed"),
    ("a: [1, 2\n", "x.yaml:2:1: invalid YAML"),
    ("? [complex, key]\n: 1\n", "x.yaml:1:3: mapping keys must be strings"),
    ('{"a":&b c}\n', "x.yaml:1:6: YAML anchors and aliases are not allowed"),  # JSON-like key: no space
    ("\ufeff&a x\n", "x.yaml:1:1: YAML anchors and aliases are not allowed"),  # after a byte order mark
])
def test_refusals_are_located(text: str, message: str) -> None:
    with pytest.raises(UserError) as err:
        source.parse(text, "x.yaml")
    assert str(err.value).startswith(message), str(err.value)


def test_ordinary_text_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def precise(text: str, shown: str) -> None:
        raise AssertionError("the precise path was taken")

    monkeypatch.setattr(source, "_parse_precise", precise)
    text = "vars:\n  a: Wow! 2*3 is 6&c.\n  '<<': quoted\nactions: {t: {type: x, n: [1, 2.5, true, ~]}}\n"
    assert source.parse(text, "x.yaml").data == {
        "vars": {"a": "Wow! 2*3 is 6&c.", "<<": "quoted"},
        "actions": {"t": {"type": "x", "n": [1, 2.5, True, None]}}}


def test_an_alias_that_reaches_the_fast_path_is_still_refused() -> None:
    composer = source._Composer("a: &x [1]\nb: *x\n")
    try:
        root = composer.get_single_node()
    finally:
        composer.dispose()
    with pytest.raises(YamlRefused, match="aliases are not allowed"):
        source._build(root, 0, set())


def test_where_an_anchor_alias_or_tag_may_start_is_found_as_the_pattern_finds_it() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=500, deadline=None)
    @given(st.text(st.sampled_from("ab &*!\t\n[]{},:\ufeff\u00a0-"), max_size=80))
    def same(text: str) -> None:
        assert source._may_refer(text) == bool(source._PRECISE.search(text)), repr(text)

    same()
    assert source._may_refer("a" + "x!" * 100 + " !tag")  # past the few looked at one by one
