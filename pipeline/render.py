"""Jinja2 rendering of manifest strings, in a sandbox, with strict undefined variables.

Every string of an action is a template. Templates are compiled once per distinct
source: manifests repeat the same signatures and patterns thousands of times, and
most strings hold no template syntax at all, so those skip Jinja entirely.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

#: Rendered text larger than this is refused: a post is short, a runaway loop is not.
MAX_OUTPUT_CHARS = 64 * 1024

_MARKERS = ("{{", "{%", "{#")


class RenderError(Exception):
    """A template failed; ``line`` is relative to the template text when known."""

    def __init__(self, message: str, line: int | None = None, template: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.template = template


class Renderer:
    """One sandboxed Jinja environment for a project's templates."""

    def __init__(self, templates_dir: Path | None) -> None:
        loader = jinja2.FileSystemLoader(str(templates_dir)) if templates_dir else None
        self.env = ImmutableSandboxedEnvironment(
            loader=loader,
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            auto_reload=False,
        )
        self._compiled: dict[str, jinja2.Template] = {}

    def render(self, source: str, context: Mapping[str, Any]) -> str:
        """Render one string; a string without template syntax is returned as is."""
        if not any(marker in source for marker in _MARKERS):
            return source
        template = self._compiled.get(source)
        try:
            if template is None:
                template = self._compiled[source] = self.env.from_string(source)
            return _bounded(template.generate(context))
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

    def render_value(self, value: Any, context: Mapping[str, Any]) -> Any:
        """Render every string inside ``value``; ``{ref: …}`` mappings are left as written."""
        if isinstance(value, str):
            return self.render(value, context)
        if isinstance(value, list):
            return [self.render_value(v, context) for v in value]
        if isinstance(value, dict) and set(value) != {"ref"}:
            return {k: self.render_value(v, context) for k, v in value.items()}
        return value


def _bounded(chunks: Any) -> str:
    out: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise RenderError(f"template output exceeds {MAX_OUTPUT_CHARS} characters")
        out.append(chunk)
    return "".join(out)
