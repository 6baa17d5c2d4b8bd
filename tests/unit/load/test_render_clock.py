"""The render clock counts this thread's CPU time, with a generous wall-clock backstop."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from pipeline.errors import RenderError
from pipeline.load import render
from pipeline.load.render import MAX_RENDER_WALL_SECONDS, Renderer

LOOP = "{% for i in range(10) %}{{ i }}{% endfor %}"


def wall_clock(monkeypatch: pytest.MonkeyPatch, step: float) -> None:
    """A wall clock that jumps ``step`` seconds at each look: a machine busy elsewhere."""
    ticks = itertools.count()
    monkeypatch.setattr(render.time, "monotonic", lambda: next(ticks) * step)


def test_a_busy_machine_does_not_fail_a_valid_template(monkeypatch: pytest.MonkeyPatch) -> None:
    wall_clock(monkeypatch, 0.5)  # seconds pass between steps, but the template uses no CPU
    assert Renderer(None).render(LOOP, {}) == "0123456789"


def test_the_wall_clock_is_still_a_backstop(monkeypatch: pytest.MonkeyPatch) -> None:
    wall_clock(monkeypatch, MAX_RENDER_WALL_SECONDS)
    with pytest.raises(RenderError, match="took longer than 2 s"):
        Renderer(None).render(LOOP, {})


def test_a_plain_string_looks_at_no_clock(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def no_clock() -> float:
        raise AssertionError("a clock was read")

    renderer = Renderer(tmp_path)
    monkeypatch.setattr(render.time, "thread_time", no_clock)
    monkeypatch.setattr(render.time, "monotonic", no_clock)
    assert renderer.render("no template here", {}) == "no template here"


def test_the_cpu_signal_is_put_back_after_a_render() -> None:
    import signal

    before = signal.getsignal(signal.SIGPROF)
    Renderer(None).render(LOOP, {})
    assert signal.getsignal(signal.SIGPROF) == before
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)
