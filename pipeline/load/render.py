"""Jinja2 rendering of manifest strings, in a sandbox, with strict undefined variables.

Every string of an action is a template. Templates are compiled once per distinct
source: manifests repeat the same signatures and patterns thousands of times, and
most strings hold no template syntax at all, so those skip Jinja entirely.

Templates are hostile input, so rendering is bounded inside each single operation, not
only between them:

- in memory: every operation that builds a value is checked from its inputs before it
  runs (``bounds``): operators, literals, ``~``, method calls, filters, captured blocks,
  imports; the output is capped;
- in time: by this thread's CPU time (a loaded machine does not fail a valid file), with
  a generous wall-clock backstop; checked at every call and loop step, and, on the main
  thread, by a CPU-time signal that interrupts any Python-level step of Jinja itself;
- in what it reads: includes and imports come only from regular files really inside
  ``content/templates/``, size-capped before they are read (``reads``); a template's
  source is capped before it is compiled;
- in what it reaches: the template context holds ``vars`` only; the globals are
  ``range`` (bounded), ``dict``, ``cycler``, ``joiner`` and ``namespace``.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, Callable, Iterable, Iterator, Mapping

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.environment import TemplateModule
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path
from jinja2.sandbox import ImmutableSandboxedEnvironment

from pipeline.errors import RenderError, RenderTimeout
from pipeline.load import bounds
from pipeline.load.bounds import MAX_TEMPLATE_BYTES, MAX_VALUE, TooBig
from pipeline.load.reads import Refused, read_capped, resolve_inside

#: Rendered text larger than this is refused: a post is short, a runaway loop is not.
MAX_OUTPUT_CHARS = 64 * 1024
#: Seconds of this thread's CPU one string may take to render: a loop that never ends
#: is an error, not a hang.
MAX_RENDER_SECONDS = 2.0
#: Seconds of wall-clock time, whatever the CPU did: a backstop, generous for a busy machine.
MAX_RENDER_WALL_SECONDS = 30.0
MAX_EXPONENT = 256
#: Seconds of CPU between two looks of the signal at a render's clock.
_TICK = 0.05

_MARKERS = ("{{", "{%", "{#")
#: The subset that most manifests use: ``{{ name.field }}`` and ``{% include 'file' %}``.
_SIMPLE = re.compile(
    r"\{\{ *([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*) *\}\}"
    r"|\{% *include +(['\"])([A-Za-z0-9_][A-Za-z0-9_./-]*)\2 *%\}")
_MISS = object()


class _TemplateRefused(Exception):
    """A template file that may not be read (raised by the loader, worded by ``render``)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name, self.message = name, message


class _ContentLoader(jinja2.BaseLoader):
    """Templates from regular files really inside ``folder`` (itself really inside
    ``within``, when given), each size-capped before it is read."""

    def __init__(self, folder: Path, within: str | None) -> None:
        self.folder, self.within = folder, within

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)  # refuses ".." and separators
        try:
            root = os.path.realpath(self.folder) if self.within is None \
                else resolve_inside(self.folder, self.within, "content/")
            real = resolve_inside(os.path.join(self.folder, *pieces), root, "content/templates/")
            raw = read_capped(real, MAX_TEMPLATE_BYTES)
        except Refused as refused:
            if refused.message == "does not exist":
                raise jinja2.TemplateNotFound(template) from None
            raise _TemplateRefused(template, refused.message) from None
        try:
            return raw.decode("utf-8"), real, lambda: True
        except UnicodeDecodeError:
            raise _TemplateRefused(template, "is not valid UTF-8") from None


class _Buffer(list[str]):
    """A captured block's (a macro's, a ``{% set %}`` block's) text, refused past the bound
    as it grows: each piece is small, their sum is not."""

    size = 0

    def append(self, chunk: str) -> None:
        self.size += len(chunk)
        if self.size > MAX_VALUE:
            raise TooBig(f"a captured block would exceed {MAX_VALUE} characters")
        super().append(chunk)

    def extend(self, chunks: Iterable[str]) -> None:
        for chunk in chunks:
            self.append(chunk)


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code, with every place that builds a value or loops going through the
    environment's checks: literals, ``~``, captured blocks and ``for``."""

    def buffer(self, frame: Frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.make_buffer()")

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.join_values((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def _checked(self, visit: Callable[[Any, Frame], None], node: Any, frame: Frame) -> None:
        self.write("environment.checked(")
        visit(node, frame)
        self.write(")")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self._checked(super().visit_List, node, frame)

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self._checked(super().visit_Dict, node, frame)

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        if node.ctx != "load":  # an assignment target: (a, b) = ...
            super().visit_Tuple(node, frame)
        else:
            self._checked(super().visit_Tuple, node, frame)

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        node.iter = nodes.Call(nodes.EnvironmentAttribute("iterate"), [node.iter], [], None, None,
                               lineno=node.iter.lineno)
        super().visit_For(node, frame)


class _BoundedTemplate(jinja2.Template):
    def make_module(self, vars: dict[str, Any] | None = None, shared: bool = False,
                    locals: Mapping[str, Any] | None = None) -> TemplateModule:
        # An imported template's text is kept whole, in a list Jinja fills unchecked.
        ctx = self.new_context(vars, shared, locals)
        body = list(bounds.bounded_items(self.root_render_func(ctx), 0, "an imported template's text"))
        return TemplateModule(self, ctx, body)


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` with its arguments checked before it runs and its result after."""
    skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0  # context/environment

    @functools.wraps(func)  # keeps jinja_pass_arg
    def bounded(*args: Any, **kwargs: Any) -> Any:
        rest, kwargs = bounds.check_filter(name, args[skip:], kwargs)
        result = func(*args[:skip], *rest, **kwargs)
        if isinstance(result, Iterator):
            return bounds.check_items(result, f"the {name} filter's items") if name == "map" else result
        return bounds.check_value(result, f"the {name} filter's result")

    return bounded


class _BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox, plus bounds on time and on every operation that builds a value.

    Jinja's sandbox stops templates from reaching Python internals, but not from
    ``{{ 9 ** 9 ** 9 }}``, ``{{ 'x' * 10 ** 9 }}`` or nested loops that never end.
    """

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _BoundedCodeGenerator
    template_class = _BoundedTemplate
    cpu_deadline = float("inf")
    wall_deadline = float("inf")
    rendering = False

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponent {right} is too large")
        bounds.check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        __self.check_time()
        result = super().call(__context, __obj, *args, **kwargs)
        if not isinstance(result, Iterator):
            bounds.check_value(result, "a call's result")
        return result

    def getattr(self, obj: Any, attribute: str) -> Any:
        return bounds.guard_method(super().getattr(obj, attribute))

    def getitem(self, obj: Any, argument: Any) -> Any:
        return bounds.guard_method(super().getitem(obj, argument))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        owner, is_map = value.__self__, value.__name__ == "format_map"

        def checked(*args: Any, **kwargs: Any) -> str:
            bounds.check_format(owner, args, args[0] if is_map and args else kwargs)
            return wrapped(*args, **kwargs)

        return checked

    # What the generated code calls (see _BoundedCodeGenerator).

    def concat(self, chunks: Iterable[str]) -> str:
        return "".join(bounds.bounded_items(chunks, 0, "the captured text"))

    def join_values(self, values: tuple[Any, ...]) -> str:
        for value in values:
            bounds.check_value(value, "a part of '~'")
        text = "".join([str(v) for v in values])
        bounds.check_value(text, "the '~' of its parts")
        return text

    def checked(self, value: Any) -> Any:
        return bounds.check_value(value, "a literal")

    def make_buffer(self) -> list[str]:
        return _Buffer()

    def iterate(self, items: Iterable[Any]) -> Iterator[Any]:
        for step, item in enumerate(items):
            if not step & 15:
                self.check_time()
            yield item

    def check_time(self) -> None:
        if time.thread_time() > self.cpu_deadline or time.monotonic() > self.wall_deadline:
            raise RenderTimeout()


class Renderer:
    """One sandboxed Jinja environment for a project's templates.

    ``within``: the real path of ``content/``, which ``templates_dir`` must really be in.
    """

    def __init__(self, templates_dir: Path | None, *, fast: bool = True, within: str | None = None) -> None:
        self.fast = fast
        loader = _ContentLoader(templates_dir, within) if templates_dir else None
        self.env = _BoundedEnvironment(
            loader=loader,
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            auto_reload=False,
            cache_size=-1,  # a plain dict: a lock held when a timeout strikes would hang the next run
        )
        env = self.env
        safe_range: Callable[..., Iterator[int]] = self.env.globals["range"]  # type: ignore[assignment]

        def bounded_range(*args: int) -> Iterator[int]:
            # Every step of a loop checks the clock, so nested loops cannot spin for ever.
            for i in safe_range(*args):
                env.check_time()
                yield i

        # Only what a post needs; lipsum(n) spends seconds of CPU inside one call.
        self.env.globals = {"range": bounded_range, "dict": dict, "cycler": jinja2.utils.Cycler,
                            "joiner": jinja2.utils.Joiner, "namespace": jinja2.utils.Namespace}
        self.env.filters = {name: _bounded_filter(name, f) for name, f in self.env.filters.items()}
        self._compiled: dict[str, jinja2.Template] = {}
        self._watching = False

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
        signal.setitimer(signal.ITIMER_PROF, _TICK, _TICK)
        self._watching = True
        try:
            yield
        finally:
            self._watching = False
            signal.setitimer(signal.ITIMER_PROF, 0, 0)
            signal.signal(signal.SIGPROF, previous)

    def _on_tick(self, signum: int, frame: FrameType | None) -> None:
        if self.env.rendering:
            self.env.check_time()

    def render(self, source: str, context: Mapping[str, Any]) -> str:
        """Render one string; a string without template syntax is returned as is.

        Raises:
            RenderError: what went wrong, with the line inside the template when known.
        """
        if not any(marker in source for marker in _MARKERS):
            return source
        if len(source) > MAX_TEMPLATE_BYTES:
            raise RenderError(f"template is {len(source)} characters, over the limit of {MAX_TEMPLATE_BYTES}")
        env = self.env
        try:
            with self.watching():
                env.cpu_deadline = time.thread_time() + MAX_RENDER_SECONDS
                env.wall_deadline = time.monotonic() + MAX_RENDER_WALL_SECONDS
                env.rendering = True
                try:
                    return self._render(source, context)
                finally:
                    env.rendering = False
        except RenderTimeout:
            raise RenderError(f"template took longer than {MAX_RENDER_SECONDS:g} s to render") from None
        except jinja2.TemplateSyntaxError as exc:
            # An error inside an included file names that file.
            included = exc.name if exc.name and exc.filename else None
            raise RenderError(f"template syntax error: {exc.message}", exc.lineno, included) from None
        except jinja2.TemplateNotFound as exc:
            raise RenderError(f"template {exc.name!r} not found in content/templates/") from None
        except _TemplateRefused as exc:
            raise RenderError(f"template {exc.name!r} {exc.message}") from None
        except jinja2.UndefinedError as exc:
            raise RenderError(f"undefined variable: {exc.message}") from None
        except (SecurityError, TooBig) as exc:
            raise RenderError(f"refused by the template sandbox: {exc}") from None
        except RenderError:
            raise
        except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError,
                LookupError, AttributeError, RecursionError, MemoryError) as exc:
            raise RenderError(f"template failed: {type(exc).__name__}: {exc}") from None

    def _render(self, source: str, context: Mapping[str, Any]) -> str:
        template = self._compiled.get(source)
        if template is None and self.fast:
            text = self._render_simple(source, context)
            if text is not None:
                return text
        if template is None:
            template = self._compiled[source] = self.env.from_string(source)
        return _bounded(template.generate(context), self.env)

    def _render_simple(self, source: str, context: Mapping[str, Any]) -> str | None:
        """Render the common subset without compiling a template: ``None`` when ``source``
        holds anything else, or when Jinja alone can word what goes wrong.

        Compiling costs about a millisecond a string, and nearly every string of a
        manifest is distinct; this gives Jinja's exact output for the subset (a test
        compares the two over generated templates).
        """
        if "\r" in source:  # Jinja normalises newlines: leave that to it
            return None
        # First the whole source must be the subset, so nothing is evaluated for a source
        # that Jinja would refuse as a whole; then each piece is evaluated.
        matches = list(_SIMPLE.finditer(source))
        literals = [source[a.end() if a else 0:b.start() if b else len(source)]
                    for a, b in zip([None, *matches], [*matches, None])]
        if any("{" in literal or "}" in literal for literal in literals):
            return None  # another construct, or a brace beside a tag that changes the lexing
        parts: list[str] = [literals[0]]
        for match, literal in zip(matches, literals[1:]):
            if match.group(1):
                value = _lookup(match.group(1), context)
                if value is _MISS:
                    return None
                parts.append(str(value))
            else:
                parts.append(_bounded(self.env.get_template(match.group(3)).generate(context), self.env))
            parts.append(literal)
        text = "".join(parts)
        if source.endswith("\n"):  # keep_trailing_newline=False drops the source's last newline
            text = text[:-1]
        if len(text) > MAX_OUTPUT_CHARS:
            raise RenderError(f"template output exceeds {MAX_OUTPUT_CHARS} characters")
        return text

    def render_value(self, value: Any, context: Mapping[str, Any]) -> Any:
        """Render every string inside ``value``; ``{ref: …}`` mappings are left as written."""
        if isinstance(value, str):
            return self.render(value, context)
        if isinstance(value, list):
            return [self.render_value(v, context) for v in value]
        if isinstance(value, dict) and set(value) != {"ref"}:
            return {k: self.render_value(v, context) for k, v in value.items()}
        return value


def _lookup(path: str, context: Mapping[str, Any]) -> Any:
    """``a.b.c`` as the sandbox resolves it, for plain data: an attribute of the object
    would win over an item in Jinja (``links.items``), so any such name is a miss."""
    first, *rest = path.split(".")
    if first not in context:
        return _MISS  # maybe a global, maybe undefined: Jinja knows
    value = context[first]
    for name in rest:
        if hasattr(value, name) or not isinstance(value, dict) or name not in value:
            return _MISS
        value = value[name]
    if not isinstance(value, (str, int, float, bool)) or value is None:
        return _MISS  # str() of containers and None: let Jinja print them its way
    return value


def _bounded(chunks: Any, env: _BoundedEnvironment) -> str:
    out: list[str] = []
    size = 0
    for chunk in chunks:
        env.check_time()
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise RenderError(f"template output exceeds {MAX_OUTPUT_CHARS} characters")
        out.append(chunk)
    return "".join(out)
