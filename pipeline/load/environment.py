"""``${env:NAME}`` and ``${secret:NAME}`` in pipeline.yaml: what a pull request may
read from the environment of the run that applies it.

The apply runs with the site's keys in its environment, and ``pipeline.yaml`` comes
from the pull request. So ``${env:…}`` may name neither the keys nor anything that
looks like a credential nor anything holding a secret, and ``${secret:…}`` is allowed
only where a secret configures (an identity's token), never where a template could
see it: a secret configures, and is never rendered.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from pipeline.errors import Diagnostic
from pipeline.load.source import Document, Loc
from pipeline.redact import is_secret, register


_ENV_REF = re.compile(r"\$\{(env|secret):([A-Za-z_][A-Za-z0-9_]*)\}")
#: Where a ``${secret:…}`` may stand: the settings that configure and are never rendered
#: or published (``None`` matches any key). A secret in ``vars`` would reach templates.
SECRET_PLACES: tuple[tuple[str | None, ...], ...] = (("identities", None, "token"),)
#: Where a ``${env:…}`` may stand: settings that cannot change what is published. The
#: pull request's plan and the apply on main run in different environments: a value
#: read from it anywhere else (a var, a media URL) would let the apply publish what the
#: reviewed plan never showed.
ENV_PLACES: tuple[tuple[str | None, ...], ...] = (("site",), ("timeout",), ("settle_after",),
                                                  ("per_identity", None))
#: ``${env:…}`` names that hold credentials: the OneAll keys, and what looks like a
#: token, key or password (a runner's other secrets); read with ``${secret:…}`` instead.
_CREDENTIAL = re.compile(r"^ONEALL_|^ACTIONS_|TOKEN|SECRET|PASSW|PRIVATE|CREDENTIAL|API_?KEY|_KEY$|^KEY$",
                         re.IGNORECASE)


def _strings(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, loc + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, loc + (i,))
    elif isinstance(value, str) and "${" in value:
        yield loc, value


def _placed(loc: Loc, places: tuple[tuple[str | None, ...], ...]) -> bool:
    return any(len(place) == len(loc) and all(p is None or p == part for p, part in zip(place, loc))
               for place in places)


def register_secrets(data: Any, doc: Document, env: Mapping[str, str],
                      problems: list[Diagnostic]) -> set[str]:
    """Register every ``${secret:NAME}`` value before anything is substituted, and refuse
    one written where it could be rendered; the names read as secrets."""
    names: set[str] = set()
    for loc, text in _strings(data, ()):
        for kind_, name in _ENV_REF.findall(text):
            if kind_ != "secret":
                continue
            names.add(name)
            if name.startswith("ONEALL_"):
                problems.append(Diagnostic(
                    f"${{secret:{name}}}: the OneAll keys are for pipeline alone, never a setting "
                    "(an identity's token is the account's own)", doc.locate(loc)))
            elif not _placed(loc, SECRET_PLACES):
                problems.append(Diagnostic(
                    f"${{secret:{name}}} cannot be used here: a secret only configures "
                    "(an identity's token) and is never a template variable or part of a post",
                    doc.locate(loc)))
            elif name in env:
                register(env[name])
    return names


def _env_problem(name: str, secret_names: set[str], env: Mapping[str, str]) -> str | None:
    """Why ``${env:NAME}`` may not be read, if it may not: it would put a secret in reach
    of templates (``vars``) or of a post. The message never holds the value."""
    if name.startswith("ONEALL_"):
        return f"${{env:{name}}} would read a secret: the OneAll keys are for pipeline alone"
    if name in secret_names or _CREDENTIAL.search(name):
        return (f"${{env:{name}}} would read a secret: secrets are read with ${{secret:{name}}}, "
                "and only where they configure (an identity's token)")
    if name in env and is_secret(env[name]):
        return f"${{env:{name}}} holds a secret value: it cannot be read with ${{env:…}}"
    return None


def substitute(value: Any, loc: Loc, doc: Document, env: Mapping[str, str],
                secret_names: set[str], problems: list[Diagnostic]) -> Any:
    """``${env:NAME}`` and ``${secret:NAME}`` in pipeline.yaml's strings, from the environment."""
    if isinstance(value, dict):
        return {k: substitute(v, loc + (k,), doc, env, secret_names, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, loc + (i,), doc, env, secret_names, problems) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        kind_, name = match.groups()
        problem = _env_problem(name, secret_names, env) if kind_ == "env" else None
        if kind_ == "env" and problem is None and not _placed(loc, ENV_PLACES):
            problem = (f"${{env:{name}}} cannot be used here: the pull request's plan and the apply "
                       "on main read different environments, so what it reads could publish what "
                       "the plan never showed (it may set site, timeout, settle_after or per_identity)")
        if problem is None and name not in env:
            problem = f"environment variable {name} is not set"
        if problem is not None:
            problems.append(Diagnostic(problem, doc.locate(loc)))
            return ""
        return env[name]

    return _ENV_REF.sub(replace, value)
