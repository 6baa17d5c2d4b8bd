"""Jinja2 rendering of manifest strings, in a sandbox, with strict undefined variables.

Every string of an action is a template. Templates are compiled once per distinct
source: manifests repeat the same signatures and patterns thousands of times, and
most strings hold no template syntax at all, so those skip Jinja entirely.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from pipeline.errors import RenderError, RenderTimeout

#: Rendered text larger than this is refused: a post is short, a runaway loop is not.
MAX_OUTPUT_CHARS = 64 * 1024
#: Seconds one string may take to render: a loop that never ends is an error, not a hang.
MAX_RENDER_SECONDS = 2.0
MAX_EXPONENT = 256

_MARKERS = ("{{", "{%", "{#")
#: The subset that most manifests use: ``{{ name.field }}`` and ``{% include 'file' %}``.
_SIMPLE = re.compile(
    r"\{\{ *([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*) *\}\}"
    r"|\{% *include +(['\"])([A-Za-z0-9_][A-Za-z0-9_./-]*)\2 *%\}")
_MISS = object()


class _BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox, plus bounds on time and on arithmetic that builds huge values.

    Jinja's sandbox stops templates from reaching Python internals, but not from
    ``{{ 9 ** 9 ** 9 }}``, ``{{ 'x' * 10 ** 9 }}`` or nested loops that never end.
    """

    intercepted_binops = frozenset({"*", "**"})
    deadline = float("inf")

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponent {right} is too large")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int) \
                        and len(seq) * times > MAX_OUTPUT_CHARS:
                    raise SecurityError("repetition would exceed the output limit")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        __self.check_time()
        return super().call(__context, __obj, *args, **kwargs)

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise RenderTimeout()


class Renderer:
    """One sandboxed Jinja environment for a project's templates."""

    def __init__(self, templates_dir: Path | None, *, fast: bool = True) -> None:
        self.fast = fast
        loader = jinja2.FileSystemLoader(str(templates_dir)) if templates_dir else None
        self.env = _BoundedEnvironment(
            loader=loader,
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            auto_reload=False,
        )
        env = self.env
        safe_range: Callable[..., Iterator[int]] = self.env.globals["range"]  # type: ignore[assignment]

        def bounded_range(*args: int) -> Iterator[int]:
            # Every step of a loop checks the clock, so nested loops cannot spin for ever.
            for i in safe_range(*args):
                env.check_time()
                yield i

        self.env.globals["range"] = bounded_range
        # lipsum(n) spends seconds of CPU inside one call, out of the clock's reach.
        del self.env.globals["lipsum"]
        self._compiled: dict[str, jinja2.Template] = {}

    def render(self, source: str, context: Mapping[str, Any]) -> str:
        """Render one string; a string without template syntax is returned as is."""
        if not any(marker in source for marker in _MARKERS):
            return source
        template = self._compiled.get(source)
        self.env.deadline = time.monotonic() + MAX_RENDER_SECONDS
        try:
            if template is None and self.fast:
                text = self._render_simple(source, context)
                if text is not None:
                    return text
            if template is None:
                template = self._compiled[source] = self.env.from_string(source)
            return _bounded(template.generate(context), self.env)
        except RenderTimeout:
            raise RenderError(f"template took longer than {MAX_RENDER_SECONDS:g} s to render") from None
        except jinja2.TemplateSyntaxError as exc:
            # An error inside an included file names that file.
            included = exc.name if exc.name and exc.filename else None
            raise RenderError(f"template syntax error: {exc.message}", exc.lineno, included) from None
        except jinja2.TemplateNotFound as exc:
            raise RenderError(f"template {exc.name!r} not found in content/templates/") from None
        except jinja2.UndefinedError as exc:
            raise RenderError(f"undefined variable: {exc.message}") from None
        except SecurityError as exc:
            raise RenderError(f"refused by the template sandbox: {exc}") from None
        except RenderError:
            raise
        except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError,
                LookupError, AttributeError, RecursionError) as exc:
            raise RenderError(f"template failed: {type(exc).__name__}: {exc}") from None

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
