"""Bounded work: each single operation a template can use to build something huge is
refused before it runs, a loop is stopped by this process's CPU time, and a template's
source is capped before it is compiled. Each is an error at its line, fast, and nothing
is sent."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import Project
from tests.scenarios.hostile import Scene, make_scene

S = "{% set s = 'x' * 60000 %}"
SANDBOX = "refused by the template sandbox: "
#: (template, what the error says after its location); each builds gigabytes in one step.
ONE_STEP = [
    ("{{ '%99999999s' % 'x' }}", SANDBOX + "the formatted text would exceed"),
    ("{{ '%*s' % (99999999, 'x') }}", SANDBOX + "a '*' width or precision is not allowed"),
    ("{{ '%.99999999f' % 1.5 }}", SANDBOX + "the formatted text would exceed"),
    ("{{ '{:>99999999}'.format(1) }}", SANDBOX + "the formatted text would exceed"),
    ("{{ '{:.99999999f}'.format(1.5) }}", SANDBOX + "the formatted text would exceed"),
    ("{{ '{0:{1}}'.format(1, 99999999) }}", SANDBOX + "a nested replacement field"),
    ("{{ '{a:>99999999}'.format_map({'a': 1}) }}", SANDBOX + "the formatted text would exceed"),
    ("{{ '%99999999s'|format('x') }}", SANDBOX + "the formatted text would exceed"),
    ("{{ 'x'.ljust(99999999) }}", SANDBOX + "a width of 99999999 is over the limit"),
    ("{{ 'x'.rjust(99999999) }}", SANDBOX + "a width of 99999999 is over the limit"),
    ("{{ 'x'.center(99999999) }}", SANDBOX + "a width of 99999999 is over the limit"),
    ("{{ 'x'.zfill(99999999) }}", SANDBOX + "a width of 99999999 is over the limit"),
    ("{{ 'x'.encode().center(99999999) }}", SANDBOX + "a width of 99999999 is over the limit"),
    ("{{ (1).to_bytes(99999999, 'big') }}", SANDBOX + "a length of 99999999 is over the limit"),
    ("{{ ('\\t' * 60000).expandtabs(9999) }}", SANDBOX + "expanding the tabs would exceed"),
    (S + "{{ s.replace('x', s) }}", SANDBOX + "the replacement would exceed"),
    (S + "{{ s|replace('x', s) }}", SANDBOX + "the replacement would exceed"),
    (S + "{{ s.translate({120: s}) }}", SANDBOX + "the translation would exceed"),
    ("{{ 'x' * 10 ** 8 }}", SANDBOX + "repetition would exceed the output limit"),
    ("{{ [1, 2] * 10 ** 8 }}", SANDBOX + "repetition would exceed the output limit"),
    (S + "{{ [s] * 8 }}", SANDBOX + "repetition would exceed the output limit"),
    (S + "{{ s + s + s + s + s }}", SANDBOX + "the concatenation would exceed"),
    (S + "{{ [s] + [s] + [s] + [s] + [s] }}", SANDBOX + "the concatenation would exceed"),
    (S + "{{ s ~ s ~ s ~ s ~ s }}", SANDBOX + "the '~' of its parts would be"),
    (S + "{{ s.join([s, s, s, s, s]) }}", SANDBOX + "a literal would print as over"),
    (S + "{{ s.join('abcde') }}", SANDBOX + "the joined text would exceed"),
    (S + "{{ range(99999)|join(s) }}", SANDBOX + "the joined text would exceed"),
    ("{{ range(99999)|map('string')|map('center', 9999)|join }}", SANDBOX + "the map filter's items would exceed"),
    ("{{ (9 ** 256) ** 256 }}", SANDBOX + "the power would be an integer over"),
    ("{{ 9 ** 99999 }}", SANDBOX + "exponent 99999 is too large"),
    ("{% set x = 9 ** 250 %}{% set y = x * x * x * x %}{% set z = y * y * y * y %}{{ z * z * z }}",
     SANDBOX + "the product would be an integer over"),
    ("{{ range(10 ** 9)|list }}", "template failed: OverflowError: Range too big"),
    ("{{ 'x'|center(99999999) }}", SANDBOX + "a width of 99999999 is over the limit"),
    ("{{ ('a\\n' * 30000)|indent(9999) }}", SANDBOX + "the indented text would exceed"),
    (S + "{{ s|wordwrap(1, wrapstring=s) }}", SANDBOX + "the wrapped text would exceed"),
    ("{{ range(9)|batch(10 ** 9, 'x')|list }}", SANDBOX + "1000000000 is over the limit of 100000 items"),
    ("{{ range(9)|slice(10 ** 9)|list }}", SANDBOX + "1000000000 is over the limit of 100000 items"),
    (S + "{{ ('http://a ' * 8000)|urlize(target=s) }}", SANDBOX + "the urlized text would exceed"),
    ("{{ [1, [2]]|tojson(99999999) }}", SANDBOX + "an indent of 99999999 is over the limit"),
    ("{{ [[1]] * 60000|sum(start=[]) }}", SANDBOX + "sum adds numbers only"),
    (S + "{% set a = [s, s, s, s] %}{% set b = [a, a, a, a] %}{{ [b, b, b, b] }}", SANDBOX + "a literal would print"),
    (S + "{% set a = (s, s, s, s) %}{{ {'a': a, 'b': a} }}", SANDBOX + "a literal would print"),
    (S + "{{ dict(a=s, b=s, c=s, d=s, e=s) }}", SANDBOX + "a call's result would print"),
    (S + "{{ namespace(a=s, b=s, c=s, d=s, e=s) }}", SANDBOX + "a call's result would print"),
    (S + "{% set x %}{% for i in range(99999) %}{{ s ~ i }}{% endfor %}{% endset %}{{ x|length }}",
     SANDBOX + "a captured block would exceed"),
    (S + "{% macro m() %}{% for i in range(99999) %}{{ s }}{% endfor %}{% endmacro %}{{ m()|length }}",
     SANDBOX + "a captured block would exceed"),
    (S + "{% set n = namespace(x='') %}{% for i in range(99999) %}{% set n.x = n.x ~ s %}{% endfor %}",
     SANDBOX + "the '~' of its parts would be"),
    ("{% import 'big.j2' as b %}x", SANDBOX + "an imported template's text would exceed"),
    ("{% for i in range(99999) %}{{ 'megabytes' }}{% endfor %}", "template output exceeds 65536 characters"),
]
#: Loops each step of which is small: stopped by the clock (2 s of CPU), the first by
#: the CPU-time signal inside Jinja's own ``select`` (no call, no loop step of the template).
LOOPS = [
    ("{% set l = range(30000)|list %}{{ range(30000, 60000)|list|select('in', l)|list|length }}",
     "template took longer than 2 s to render"),
    ("{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}",
     "template took longer than 2 s to render"),
]


@pytest.fixture
def scene(project: Project, sandbox: SandboxServer, site_env: dict[str, str], tmp_path: Path) -> Scene:
    project.write("content/templates/big.j2", S + "{% for i in range(99999) %}{{ s ~ i }}{% endfor %}")
    return make_scene(project, sandbox, site_env, tmp_path)


def manifest(sources: list[str]) -> str:
    """One action per template, its message on line ``5 + 4 * i``."""
    return "actions:\n" + "".join(
        f"  a{i}:\n    type: twitter.post\n    identity: acme-twitter\n    message: \"{source}\"\n"
        for i, source in enumerate(sources))


def test_every_operation_that_would_build_something_huge_is_refused_before_it_runs(scene: Scene) -> None:
    scene.project.manifest("x", manifest([S + "{{ s|length }}"] + [source for source, _ in ONE_STEP]))
    started = time.process_time()
    scene.refused(*(f"content/x.yaml:{9 + 4 * i}:14: {message}" for i, (_, message) in enumerate(ONE_STEP)))
    assert time.process_time() - started < 10  # each refused up front, not after building it


def test_a_loop_is_stopped_by_cpu_time_inside_a_single_filter_too(scene: Scene) -> None:
    scene.project.manifest("x", manifest([source for source, _ in LOOPS]))
    started = time.process_time()
    scene.refused(*(f"content/x.yaml:{5 + 4 * i}:14: {message}" for i, (_, message) in enumerate(LOOPS)))
    assert time.process_time() - started < 2 * len(LOOPS) + 3


def test_a_template_source_is_capped_before_it_is_compiled(scene: Scene) -> None:
    big = "{{ x }}" + "y" * 70000
    scene.project.manifest("x", manifest([big]))
    scene.project.write("content/templates/long.j2", "{% if true %}" + "z" * 70000 + "{% endif %}")
    scene.project.manifest("y", manifest(["{% include 'long.j2' %}"]))
    scene.refused(f"content/x.yaml:5:14: template is {len(big)} characters, over the limit of 65536",
                  "content/y.yaml:5:14: template 'long.j2' is 70024 bytes, over the limit of 65536")
