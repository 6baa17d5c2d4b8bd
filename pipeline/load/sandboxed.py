"""The bounded Jinja environment that ``render`` renders with.

Jinja's sandbox stops templates from reaching Python internals; this environment adds
the bounds a hostile template needs inside each single operation: a code generator that
checks every value-building operation before it runs (``bounds``), filters wrapped the
same way, a loader that reads only regular files really inside ``content/templates/``
(size-capped before reading), and clocks that a render checks at every call and loop
step. ``render.Renderer`` owns one of these per project.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.environment import TemplateModule
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from pipeline.errors import Refused, RenderTimeout, TemplateRefused, TooBig
from pipeline.load import bounds
from pipeline.load.bounds import MAX_VALUE
from pipeline.load.reads import read_template


MAX_EXPONENT = 256





class ContentLoader(jinja2.BaseLoader):
    """Templates from regular files really inside ``folder`` (itself really inside
    ``within``, when given), each size-capped before it is read."""

    def __init__(self, folder: Path, within: str | None) -> None:
        self.folder, self.within = folder, within

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        try:
            text, real = read_template(self.folder, self.within, template)
            return text, real, lambda: True
        except LookupError:  # a name that cannot stand for a file inside the folder
            raise jinja2.TemplateNotFound(template) from None
        except Refused as refused:
            if refused.message == "does not exist":
                raise jinja2.TemplateNotFound(template) from None
            raise TemplateRefused(template, refused.message) from None


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


def bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
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


class BoundedEnvironment(ImmutableSandboxedEnvironment):
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
