"""The error hierarchy: one root, and the few kinds the CLI tells apart.

A ``UserError`` is something the user can fix in their own files or environment: the
CLI prints its diagnostics one per line and exits 1, with no traceback. Anything that
is not a ``PipelineError`` is a bug and gets a traceback written to a log file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a user's file; line and column are 1-based, as editors count."""

    path: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        # A file name may hold anything git can (a newline, a bidirectional mark): it is
        # shown with those escaped, so that one location always reads as one line.
        path = self.path if self.path.isprintable() else self.path.encode("unicode_escape").decode("ascii")
        if self.line <= 0:
            return path
        return f"{path}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem, where it is, and optionally how to fix it."""

    message: str
    location: Location | None = None
    hint: str | None = None

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        return f"{text} (hint: {self.hint})" if self.hint else text

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location or Location("")
        return (loc.path, loc.line, loc.col, self.message)


class PipelineError(Exception):
    """Root of every error the pipeline raises on purpose."""


class UserError(PipelineError):
    """Problems in the user's files or environment, reported all at once."""

    def __init__(self, diagnostics: Iterable[Diagnostic] | Diagnostic | str) -> None:
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(diagnostics)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: tuple[Diagnostic, ...] = tuple(
            sorted(diagnostics, key=Diagnostic.sort_key)
        )
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class ApiError(PipelineError):
    """OneAll answered with an error envelope (or a non-JSON error page).

    ``info`` is OneAll's human-readable text: shown to the user, never parsed.
    """

    def __init__(self, code: int, info: str, resource: str) -> None:
        self.code = code
        self.info = info
        self.resource = resource
        super().__init__(f"OneAll answered {code} for {resource}: {info}")


class TransportError(PipelineError):
    """The request could not be delivered; OneAll surely did not act on it."""


class OutcomeUnknownError(PipelineError):
    """The request may have reached OneAll but no answer came back.

    Resending could publish twice, so the action is recorded as ``unknown``.
    """


class LockedError(UserError):
    """Another process holds the state's lock."""


# ---------------------------------------------------------------- inside one phase
#
# These never reach the CLI: the phase that raises one turns it into a Diagnostic at the
# user's file, line and column (or into an outcome), so each names what it carries.


class RenderError(PipelineError):
    """A template failed; ``line`` is relative to the template text when known."""

    def __init__(self, message: str, line: int | None = None, template: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.template = template


class RenderTimeout(PipelineError):
    """A template ran past its time budget (raised from inside Jinja, caught by the renderer)."""


class YamlRefused(PipelineError):
    """A YAML construct the pipeline does not take (an alias, a tag), at ``node``."""

    def __init__(self, message: str, node: Any) -> None:
        super().__init__(message)
        self.message = message
        self.node = node


class MediaError(PipelineError):
    """A ``file:`` that cannot be published; the message says why."""


class BadEvent(ValueError):
    """A journal line that is not an event of a known kind; the store reports it as a
    damaged journal at its line."""


class IncompleteListing(PipelineError):
    """The Pull API's answers do not prove that a listing holds everything asked for."""


class Refused(PipelineError):
    """A read that is not allowed (outside its folder, a special file, too large);
    ``message`` says why, naming neither content nor secret."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TooBig(Exception):
    """A template operation would build a value over the bounds; ``str()`` says which.

    Not a ``PipelineError``: it is raised inside Jinja and turned into a ``RenderError``."""


class TemplateRefused(Exception):
    """A template file that may not be read: raised by the Jinja loader, worded by the
    renderer as a ``RenderError`` at the line that includes it."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name, self.message = name, message


class AnswerUnread(Exception):
    """The client could not read an answer's body whole: the connection broke or stalled."""


class AnswerNotDone(Exception):
    """OneAll surely did not act and says to try later; ``error`` if that is final."""

    def __init__(self, error: ApiError) -> None:
        self.error = error


class SandboxRefusal(Exception):
    """A request the sandbox refuses, as OneAll would: ``code`` and ``info`` make the
    error envelope it answers with (never raised outside the sandbox)."""

    def __init__(self, code: int, info: str) -> None:
        super().__init__(info)
        self.code = code
        self.info = info

