"""Jinja2 rendering of manifest strings, in a sandbox, with strict undefined variables.

Every string of an action is a template. Most strings hold no template syntax at all,
and nearly all the others only names and includes: those skip Jinja entirely
(``plain``). The rest are compiled once per distinct source.

Templates are hostile input, so rendering is bounded inside each single operation, not
only between them:

- in memory: every operation that builds a value is checked from its inputs before it
  runs (``bounds``): operators, literals, ``~``, method calls, filters, captured blocks,
  imports; the output is capped;
- in time: a plain string takes a bounded number of steps (so do all of a manifest's, and
  all of a run's: past them, strings go on the clock), so it reads no clock; any other
  is bounded by this thread's CPU time (a loaded machine does not fail a valid file),
  with a generous wall-clock backstop, checked at every call and loop step, and, on the
  main thread, by a CPU-time signal that interrupts any Python step of Jinja;
- in what it reads: includes and imports come only from regular files really inside
  ``content/templates/``, size-capped before they are read (``reads``); a template's
  source is capped before it is compiled;
- in what it reaches: the template context holds ``vars`` only; the globals are
  ``range`` (bounded), ``dict``, ``cycler``, ``joiner`` and ``namespace``.
"""

from __future__ import annotations

import re
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

from pipeline.errors import Refused, RenderError, RenderTimeout, TemplateRefused, TooBig
from pipeline.load import plain
from pipeline.load.bounds import MAX_TEMPLATE_BYTES, TICK
from pipeline.load.plain import MAX_OUTPUT_CHARS
from pipeline.load.reads import read_template

if TYPE_CHECKING:  # Jinja is imported when a string needs it: not for a plain one
    import jinja2

    from pipeline.load.sandboxed import BoundedEnvironment

#: Seconds of this thread's CPU one string may take to render: a loop that never ends
#: is an error, not a hang.
MAX_RENDER_SECONDS = 2.0
#: Seconds of wall-clock time, whatever the CPU did: a backstop, generous for a busy machine.
MAX_RENDER_WALL_SECONDS = 30.0
#: CPU seconds all the strings of one manifest may take, and all the templates of one
#: run (per process compiling): a manifest of many slow strings is refused, not endured.
MAX_FILE_SECONDS = 6.0
MAX_RUN_SECONDS = 120.0


class Renderer:
    """One sandboxed Jinja environment for a project's templates.

    ``within``: the real path of ``content/``, which ``templates_dir`` must really be in.
    """

    def __init__(self, templates_dir: Path | None, *, fast: bool = True, within: str | None = None) -> None:
        self.fast = fast
        self.templates_dir, self.within = templates_dir, within
        self._env: BoundedEnvironment | None = None
        self._compiled: dict[str, jinja2.Template] = {}
        self._plain = plain.Sources(self._template_source)
        self._watching = False
        #: CPU seconds spent rendering the current manifest's strings, and all of this run's.
        self.file_spent = 0.0
        self.run_spent = 0.0

    @property
    def env(self) -> BoundedEnvironment:
        """The sandboxed environment, made when a string first needs Jinja."""
        if self._env is None:
            self._env = _environment(self.templates_dir, self.within)
        return self._env

    def begin_file(self) -> None:
        """A new manifest: its strings share a fresh budget (the run's goes on)."""
        self.file_spent = 0.0
        self._plain.file_steps = 0

    @contextmanager
    def watching(self) -> Iterator[None]:
        """While inside, a CPU-time signal (on the main thread) stops a render past its
        time wherever it is in Python code, even inside one of Jinja's own loops. A
        compile wraps all its files in one; ``render`` makes its own otherwise."""
        usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
        if self._watching or not usable:
            yield
            return
        previous = signal.signal(signal.SIGPROF, self._on_tick)
        signal.setitimer(signal.ITIMER_PROF, TICK, TICK)
        self._watching = True
        try:
            yield
        finally:
            self._watching = False
            signal.setitimer(signal.ITIMER_PROF, 0, 0)
            signal.signal(signal.SIGPROF, previous)

    def _on_tick(self, signum: int, frame: FrameType | None) -> None:
        if self._env is not None and self._env.rendering:
            self._env.check_time()

    def render(self, source: str, context: Mapping[str, Any]) -> str:
        """Render one string; a string without template syntax is returned as is.

        Raises:
            RenderError: what went wrong, with the line inside the template when known.
        """
        if "{{" not in source and "{%" not in source and "{#" not in source:
            return source
        if len(source) > MAX_TEMPLATE_BYTES:
            raise RenderError(f"template is {len(source)} characters, over the limit of {MAX_TEMPLATE_BYTES}")
        try:
            # The plain subset, its includes plain too, takes time in proportion to its
            # (bounded) steps and text: no clock to read. Anything else is on the clock.
            text = self._plain.render(source, context) if self.fast and source not in self._compiled else None
            return _repeatable(source, self._timed(source, context) if text is None else text)
        except RenderError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever a template's own code raises is its failure
            raise _mapped(exc) from None

    def _timed(self, source: str, context: Mapping[str, Any]) -> str:
        env = self.env
        # Each string has its budget, and so do all the strings of one manifest and all
        # of one run: twenty strings of two seconds each must not make a minute.
        limits = [(MAX_RENDER_SECONDS, f"template took longer than {MAX_RENDER_SECONDS:g} s to render"),
                  (MAX_FILE_SECONDS - self.file_spent,
                   f"this manifest's templates took longer than {MAX_FILE_SECONDS:g} s in all to render"),
                  (MAX_RUN_SECONDS - self.run_spent,
                   f"the project's templates took longer than {MAX_RUN_SECONDS:g} s in all to render")]
        budget, why = min(limits)
        if budget <= 0:
            raise RenderError(why)
        started = time.thread_time()
        try:
            with self.watching():
                env.cpu_deadline = started + budget
                env.wall_deadline = time.monotonic() + MAX_RENDER_WALL_SECONDS
                env.rendering = True
                try:
                    return self._render(source, context)
                finally:
                    env.rendering = False
                    spent = time.thread_time() - started
                    self.file_spent += spent
                    self.run_spent += spent
        except RenderTimeout:
            raise RenderError(why) from None

    def _render(self, source: str, context: Mapping[str, Any]) -> str:
        template = self._compiled.get(source)
        if template is None and self.fast:
            # The subset, with its includes rendered by Jinja: no template to compile.
            parsed = self._plain.parsed(source)
            text = None if parsed is None else plain.fill(
                parsed, context, lambda name, values: _bounded(self.env.get_template(name).generate(values), self.env))
            if text is not None:
                return text
        if template is None:
            template = self._compiled[source] = self.env.from_string(source)
        return _bounded(template.generate(context), self.env)

    def _template_source(self, name: str) -> str | None:
        """The source of the template ``name``, read with the same checks as Jinja's
        loader (``reads.read_template``); ``None`` when it cannot be read (Jinja words
        why, on the clock)."""
        if self.templates_dir is None:
            return None
        try:
            return read_template(self.templates_dir, self.within, name)[0]
        except (Refused, LookupError):
            return None

    def render_value(self, value: Any, context: Mapping[str, Any]) -> Any:
        """Render every string inside ``value``; ``{ref: …}`` mappings are left as written."""
        if isinstance(value, str):
            return self.render(value, context)
        if isinstance(value, list):
            return [self.render_value(v, context) for v in value]
        if isinstance(value, dict) and not (len(value) == 1 and "ref" in value):
            return {k: self.render_value(v, context) for k, v in value.items()}
        return value


def preload() -> None:
    """Import Jinja now (a compile does, before it forks, once for all its processes)."""
    import pipeline.load.sandboxed  # noqa: F401


def _environment(templates_dir: Path | None, within: str | None) -> BoundedEnvironment:
    import jinja2

    from pipeline.load.sandboxed import BoundedEnvironment, ContentLoader, bounded_filter

    loader = ContentLoader(templates_dir, within) if templates_dir else None
    env = BoundedEnvironment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        auto_reload=False,
        cache_size=-1,  # a plain dict: a lock held when a timeout strikes would hang the next run
        finalize=_plain,
    )
    safe_range: Callable[..., Iterator[int]] = env.globals["range"]  # type: ignore[assignment]

    def bounded_range(*args: int) -> Iterator[int]:
        # Every step of a loop checks the clock, so nested loops cannot spin for ever.
        for i in safe_range(*args):
            env.check_time()
            yield i

    # Only what a post needs; lipsum(n) spends seconds of CPU inside one call.
    env.globals = {"range": bounded_range, "dict": dict, "cycler": jinja2.utils.Cycler,
                   "joiner": jinja2.utils.Joiner, "namespace": jinja2.utils.Namespace}
    # ``random`` would let the apply on main publish what the reviewed plan did not show.
    env.filters = {name: bounded_filter(name, f) for name, f in env.filters.items()
                   if name not in _UNREPEATABLE_FILTERS}
    return env


def _mapped(exc: Exception) -> RenderError:
    """What went wrong in a render, in words (Jinja's exceptions are Jinja's by then: it
    raised them, so it is imported)."""
    if isinstance(exc, TooBig):
        return RenderError(f"refused by the template sandbox: {exc}")
    if isinstance(exc, TemplateRefused):
        return RenderError(f"template {exc.name!r} {exc.message}")
    import jinja2
    from jinja2.exceptions import SecurityError

    if isinstance(exc, jinja2.TemplateSyntaxError):
        # An error inside an included file names that file.
        included = exc.name if exc.name and exc.filename else None
        return RenderError(f"template syntax error: {exc.message}", exc.lineno, included)
    if isinstance(exc, jinja2.TemplateNotFound):
        return RenderError(f"template {exc.name!r} not found in content/templates/")
    if isinstance(exc, jinja2.UndefinedError):
        return RenderError(f"undefined variable: {exc.message}")
    if isinstance(exc, SecurityError):
        return RenderError(f"refused by the template sandbox: {exc}")
    return RenderError(f"template failed: {type(exc).__name__}: {exc}")


def _bounded(chunks: Any, env: BoundedEnvironment) -> str:
    out: list[str] = []
    size = 0
    for chunk in chunks:
        env.check_time()
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise RenderError(f"template output exceeds {MAX_OUTPUT_CHARS} characters")
        out.append(chunk)
    return "".join(out)


_UNREPEATABLE_FILTERS = frozenset({"random"})
#: What CPython prints for an object with no text of its own: its address, which differs
#: from one run to the next (the plan's run and the apply's).
_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]{4,}")
_PLAIN = (str, int, float, bool, type(None))


def _plain(value: Any, depth: int = 0) -> Any:
    """Jinja's ``finalize``: only values that print the same on every run are printed."""
    import jinja2
    from jinja2.exceptions import SecurityError

    if isinstance(value, _PLAIN) or isinstance(value, jinja2.Undefined):
        return value
    if depth < 32 and isinstance(value, (list, tuple)):
        for item in value:
            _plain(item, depth + 1)
        return value
    if depth < 32 and isinstance(value, dict):
        for key, item in value.items():
            _plain(key, depth + 1)
            _plain(item, depth + 1)
        return value
    raise SecurityError(f"a {type(value).__name__} would print differently on every run: "
                        "print text, numbers, lists or mappings")


def _repeatable(source: str, text: str) -> str:
    """``text``, unless it holds an object's address that its source did not: then the
    plan and the apply would render different posts."""
    if "0x" in text and len(_ADDRESS.findall(text)) > len(_ADDRESS.findall(source)):
        from jinja2.exceptions import SecurityError

        raise SecurityError("the rendering holds an object's address, which differs on every run")
    return text

