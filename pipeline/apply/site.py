"""Which OneAll site a run talks to: a real one from the environment, or the sandbox.

A real site is configured by any of ``ONEALL_SUBDOMAIN``, ``ONEALL_API_BASE``,
``ONEALL_PUBLIC_KEY``/``ONEALL_PRIVATE_KEY`` or a ``site:`` other than ``sandbox``;
then the sandbox is never used. Otherwise runs go to the embedded sandbox, with a
state and a database of their own under ``.pipeline/sandbox/`` (git-ignored), so a
sandbox run can never touch the real state.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Mapping
from urllib.parse import urlsplit, urlunsplit

from pipeline.errors import Diagnostic, UserError
from pipeline.model.config import SUBDOMAIN_PATTERN, check_http_url
from pipeline.load.project import PRIVATE_DIR, Project, private_dir

if TYPE_CHECKING:  # requests is imported only when something is sent
    from pipeline.oneall.client import Credentials, OneAllClient
    from pipeline.oneall.sandbox import Faults, Sandbox

ENV_VARS = ("ONEALL_SUBDOMAIN", "ONEALL_API_BASE", "ONEALL_PUBLIC_KEY", "ONEALL_PRIVATE_KEY")
SANDBOX = "sandbox"
SANDBOX_DIR = Path(PRIVATE_DIR) / "sandbox"
STATE_FILE = Path("state") / "state.json"


@dataclass(frozen=True)
class Site:
    """Where requests go and where their results are recorded."""

    name: str  # "sandbox", the subdomain, or the API base URL
    base_url: str | None  # None: the embedded sandbox, started on demand
    credentials: Credentials | None
    state_path: Path
    timeout: float
    missing_keys: tuple[str, ...] = ()

    @property
    def is_sandbox(self) -> bool:
        return self.base_url is None


def resolve(project: Project, env: Mapping[str, str] | None = None) -> Site:
    """The site for this run, from the environment and ``pipeline.yaml``."""
    env = os.environ if env is None else env
    given = {k: env[k] for k in ENV_VARS if env.get(k)}
    configured = project.config.site
    timeout = _timeout(env.get("ONEALL_TIMEOUT"), project.config.timeout)
    if not given and configured == SANDBOX:
        return Site(SANDBOX, None, None, project.root / SANDBOX_DIR / "state.json", timeout)

    problems: list[Diagnostic] = []
    subdomain = given.get("ONEALL_SUBDOMAIN") or (configured if configured != SANDBOX else None)
    base = given.get("ONEALL_API_BASE")
    if subdomain and not re.match(SUBDOMAIN_PATTERN, subdomain):
        problems.append(Diagnostic(f"site subdomain {subdomain!r} is not a valid host name label",
                                   project.config_doc.locate(("site",)) if not given.get("ONEALL_SUBDOMAIN") else None))
    if base:
        try:
            check_http_url(base)
        except ValueError as exc:
            problems.append(Diagnostic(f"ONEALL_API_BASE {exc}"))
    elif not subdomain:
        problems.append(Diagnostic(
            "OneAll keys are set but no site: set ONEALL_SUBDOMAIN (or site: in pipeline.yaml)",
            project.config_doc.locate(("site",))))
    missing = tuple(k for k in ("ONEALL_PUBLIC_KEY", "ONEALL_PRIVATE_KEY") if k not in given)
    named_by_env = given.get("ONEALL_SUBDOMAIN") or base
    if not missing and not named_by_env:
        # pipeline.yaml comes from pull requests: a merged one must not send the keys to
        # a site of its choosing. The environment, which the repository's owners set,
        # names where the keys go.
        problems.append(Diagnostic(
            "the OneAll keys are sent only to a site the environment names: set ONEALL_SUBDOMAIN "
            "(a repository variable) or ONEALL_API_BASE", project.config_doc.locate(("site",))))
    elif given.get("ONEALL_SUBDOMAIN") and configured not in (SANDBOX, given["ONEALL_SUBDOMAIN"]):
        problems.append(Diagnostic(
            f"pipeline.yaml names site {configured!r}, but ONEALL_SUBDOMAIN is "
            f"{given['ONEALL_SUBDOMAIN']!r}", project.config_doc.locate(("site",))))
    if problems:
        raise UserError(problems)
    # Keys are needed to publish, not to validate or plan: a pull request's plan runs
    # with no secrets at all.
    from pipeline.oneall.client import Credentials

    credentials = None if missing else Credentials(given["ONEALL_PUBLIC_KEY"], given["ONEALL_PRIVATE_KEY"])
    base_url = base or f"https://{subdomain}.api.oneall.com"
    return Site(subdomain or _without_userinfo(base_url), base_url, credentials,
                project.root / STATE_FILE, timeout, missing)


def _timeout(given: str | None, configured: float) -> float:
    if not given:
        return configured
    try:
        value = float(given)
    except ValueError:
        value = -1.0
    if not 0 < value <= 300:  # also refuses nan and inf
        raise UserError(Diagnostic(f"ONEALL_TIMEOUT must be a number of seconds above 0 and at most 300, got {given!r}"))
    return value


def _without_userinfo(url: str) -> str:
    """The site's name from its URL: no credentials (they go in the state file)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


@contextmanager
def publisher(site: Site, project: Project, *, parallelism: int = 8) -> Iterator[OneAllClient]:
    """A client for ``site``; for the sandbox, the embedded emulator is served meanwhile.

    Its connection pool holds at least ``parallelism`` connections, so that no request
    in flight waits for another's connection.
    """
    pool_size = max(16, parallelism)
    from pipeline.oneall.client import Credentials, OneAllClient

    if not site.is_sandbox:
        assert site.base_url
        if site.credentials is None:
            raise UserError([Diagnostic(f"{key} is not set: publishing to {site.name} needs both API keys",
                                        hint="or set site: sandbox and unset the ONEALL_* variables")
                             for key in site.missing_keys])
        client = OneAllClient(site.base_url, site.credentials, timeout=site.timeout, pool_size=pool_size)
        try:
            yield client
        finally:
            client.close()
        return
    from pipeline.oneall.sandbox import SandboxServer, new_keys

    public, private = new_keys()
    private_dir(project.root)
    sandbox = project_sandbox(project, public, private, project.root / SANDBOX_DIR / "db.jsonl")
    with SandboxServer(sandbox) as server:
        client = OneAllClient(server.url, Credentials(public, private), timeout=site.timeout, pool_size=pool_size)
        try:
            yield client
        finally:
            client.close()


def project_sandbox(project: Project | None, public: str, private: str, db_path: Path,
                    faults: Faults | None = None) -> Sandbox:
    """A sandbox that knows the project's identities (if any), keeping its posts in ``db_path``."""
    from pipeline.oneall.sandbox import Sandbox

    sandbox = Sandbox(public, private, db_path=db_path, faults=faults)
    for name, identity in (project.config.identities.items() if project else ()):
        sandbox.add_identity(identity.token, identity.network, name)
    return sandbox
