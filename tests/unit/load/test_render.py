"""Rendering: strict variables, includes, and a sandbox that templates cannot escape."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import RenderError
from pipeline.load.render import MAX_OUTPUT_CHARS, Renderer


@pytest.fixture
def renderer(tmp_path: Path) -> Renderer:
    (tmp_path / "sig.j2").write_text("-- {{ brand }}")
    return Renderer(tmp_path)


def test_plain_strings_are_returned_untouched(renderer: Renderer) -> None:
    assert renderer.render("no {template} here", {}) == "no {template} here"


def test_variables_filters_and_includes(renderer: Renderer) -> None:
    out = renderer.render("{{ name | upper }} {% include 'sig.j2' %}", {"name": "rocket", "brand": "Acme"})
    assert out == "ROCKET -- Acme"


def test_undefined_variable_is_an_error_not_an_empty_string(renderer: Renderer) -> None:
    with pytest.raises(RenderError, match="'nope' is undefined"):
        renderer.render("hi {{ nope }}", {})


def test_references_are_not_rendered(renderer: Renderer) -> None:
    assert renderer.render_value([{"ref": "{{ x }}"}, "{{ x }}"], {"x": "1"}) == [{"ref": "{{ x }}"}, "1"]


ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ self.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ [].__class__.__base__.__subclasses__() }}",
    "{% set x = {} %}{{ x.update({'a': 1}) }}",  # immutable sandbox: no mutation
    "{{ (1).__class__ }}",
    "{{ config }}",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_sandbox_escape_attempts_are_refused(renderer: Renderer, source: str) -> None:
    with pytest.raises(RenderError) as err:
        renderer.render(source, {})
    assert "sandbox" in err.value.message or "undefined" in err.value.message


def test_runaway_output_is_capped(renderer: Renderer) -> None:
    with pytest.raises(RenderError, match="exceeds"):
        renderer.render("{% for i in range(100000) %}xxxxxxxxxx{% endfor %}", {})
    assert MAX_OUTPUT_CHARS < 100000 * 10


def test_template_is_compiled_once_per_distinct_source(renderer: Renderer) -> None:
    for n in range(3):
        assert renderer.render("{{ n | string }}", {"n": n}) == str(n)
    assert len(renderer._compiled) == 1


def test_the_fast_path_renders_exactly_as_jinja(tmp_path: Path) -> None:
    """The compiled-free path for {{ a.b }} and {% include %} against Jinja itself."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    (tmp_path / "sig.j2").write_text("-- {{ brand }} {{ links.shop }}\n")
    (tmp_path / "two.j2").write_text("{% include 'sig.j2' %}!")
    fast, slow = Renderer(tmp_path), Renderer(tmp_path, fast=False)
    context = {"brand": "Acme", "n": 3, "f": 1.5, "yes": True, "links": {"shop": "https://a.example", "items": "x"},
               "nested": {"a": {"b": "deep"}}, "empty": "", "none": None, "list": [1, 2]}
    pieces = st.sampled_from([
        "{{ brand }}", "{{brand}}", "{{  n  }}", "{{ f }}", "{{ yes }}", "{{ links.shop }}", "{{ links.items }}",
        "{{ nested.a.b }}", "{{ empty }}", "{{ none }}", "{{ list }}", "{{ missing }}", "{{ links.nope }}",
        "{% include 'sig.j2' %}", "{%include \"two.j2\"%}", "{% include 'nope.j2' %}",
        "{{ brand | upper }}", "{%- include 'sig.j2' -%}", "text ", " ", "\n", "\r\n", "{", "}", "%", "#",
        "{# c #}", "é🚀",
    ])

    @settings(max_examples=400, deadline=None)
    @given(st.lists(pieces, max_size=6))
    def same(parts: list[str]) -> None:
        source = "".join(parts)
        outcomes = []
        for renderer in (fast, slow):
            try:
                outcomes.append(("ok", renderer.render(source, context)))
            except RenderError as exc:
                outcomes.append(("error", exc.message))
        assert outcomes[0] == outcomes[1], source

    same()


def test_names_and_plain_includes_render_without_jinja_or_a_clock(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.load import render

    (tmp_path / "sig.j2").write_text("{{ tags }} #{{ brand }}\n")
    renderer = Renderer(tmp_path)

    def no_clock() -> float:
        raise AssertionError("a clock was read")

    monkeypatch.setattr(render.time, "thread_time", no_clock)
    monkeypatch.setattr(render.time, "monotonic", no_clock)
    context = {"product": "Widget", "links": {"shop": "https://a.example"}, "tags": "#acme", "brand": "Acme"}
    source = "{{ product }} is here! {{ links.shop }} {% include 'sig.j2' %}\n"
    assert renderer.render(source, context) == "Widget is here! https://a.example #acme #Acme"
    assert renderer._compiled == {} and renderer.env.cache == {}  # nothing compiled, not even sig.j2


def test_a_plain_include_that_misses_is_left_to_jinja_on_the_clock(tmp_path: Path) -> None:
    (tmp_path / "sig.j2").write_text("-- {{ nope }}")
    renderer = Renderer(tmp_path)
    with pytest.raises(RenderError, match="'nope' is undefined"):
        renderer.render("{{ brand }} {% include 'sig.j2' %}", {"brand": "Acme"})
    assert renderer.file_spent > 0  # Jinja rendered it, on the clock


def test_a_plain_string_of_too_many_steps_is_left_to_jinja(tmp_path: Path) -> None:
    from pipeline.load.plain import PLAIN_STEPS

    (tmp_path / "sig.j2").write_text("{{ a }}" * 100)
    renderer = Renderer(tmp_path)
    times = PLAIN_STEPS // 100 + 1
    source = "{% include 'sig.j2' %}" * times
    assert renderer.render(source, {"a": "x"}) == "x" * 100 * times
    assert renderer.file_spent > 0


def test_plain_text_past_the_output_cap_is_refused_and_never_built_whole() -> None:
    import tracemalloc

    from pipeline.load import plain

    parsed = plain.parse("{{ big }}" * 1000)
    assert parsed is not None
    big = "x" * (MAX_OUTPUT_CHARS // 2)
    tracemalloc.start()
    try:
        with pytest.raises(RenderError, match="template output exceeds"):
            plain.fill(parsed, {"big": big}, lambda name, context: None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024  # not the 32 MB of the whole text


def test_included_text_past_the_output_cap_is_not_kept(tmp_path: Path) -> None:
    import tracemalloc

    (tmp_path / "big.j2").write_text("{{ a }}" + "x" * (MAX_OUTPUT_CHARS - 100))
    renderer = Renderer(tmp_path)
    renderer.render("{% include 'big.j2' %}", {"a": "y"})  # read and split before measuring
    tracemalloc.start()
    try:
        with pytest.raises(RenderError, match="template output exceeds"):
            renderer.render("{% include 'big.j2' %}" * 200, {"a": "y"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024  # not the 13 MB of two hundred copies


def test_plain_strings_past_a_manifests_or_a_runs_steps_go_on_the_clock(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A flood of cheap strings is bounded in time too: past the steps a manifest (or a
    run) may take without a clock, Jinja renders them, under the time limits."""
    from pipeline.load import plain

    monkeypatch.setattr(plain, "PLAIN_FILE_STEPS", 10)
    monkeypatch.setattr(plain, "PLAIN_RUN_STEPS", 25)
    renderer = Renderer(tmp_path)
    for n in range(5):  # two steps each: the manifest's ten
        assert renderer.render("{{ a }}-{{ b }}", {"a": n, "b": "x"}) == f"{n}-x"
    assert renderer.file_spent == 0
    assert renderer.render("{{ a }}-{{ b }}", {"a": 5, "b": "x"}) == "5-x"
    assert renderer.file_spent > 0  # on the clock
    renderer.begin_file()
    spent = renderer.run_spent
    for n in range(3):  # the run's steps: 10 + 6 + ...
        renderer.render("{{ a }}-{{ b }}", {"a": n, "b": "x"})
    assert renderer.run_spent == spent  # still plain: 16 steps of the run's 25
    renderer.begin_file()
    for n in range(6):
        renderer.render("{{ a }}-{{ b }}", {"a": n, "b": "x"})
    assert renderer.run_spent > spent  # the run's steps are spent: on the clock
