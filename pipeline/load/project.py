"""A content repository: where ``pipeline.yaml`` is, its config, and its manifests."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from pydantic import ValidationError

from pipeline.errors import Diagnostic, Location, Refused, UserError
from pipeline.model.config import Config
from pipeline.redact import is_secret, register
from pipeline.load.reads import kind, resolve_inside
from pipeline.load.source import Document, Loc, load
from pipeline.load.diagnostics import diagnostics_from

CONFIG_FILE = "pipeline.yaml"
CONTENT_DIR = "content"
TEMPLATES_DIR = "templates"  # under content/
MANIFEST_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Listing:
    """What a scan of ``content/`` found: project-relative POSIX paths in a stable order,
    the real path of each, and every entry refused (a symlink leading out, a FIFO)."""

    manifests: list[str]
    others: list[str]  # templates and media
    real: dict[str, str]
    problems: list[Diagnostic]


@dataclass(frozen=True)
class Project:
    """A loaded ``pipeline.yaml`` and the folder it stands in."""

    root: Path
    config: Config
    config_doc: Document

    @property
    def content_dir(self) -> Path:
        return self.root / CONTENT_DIR

    @property
    def templates_dir(self) -> Path:
        return self.content_dir / TEMPLATES_DIR

    def real_content(self) -> str:
        """The real path of ``content/``, which must itself be inside the project.

        Raises:
            Refused: ``content/`` is a symlink that leads out of the project.
        """
        return resolve_inside(self.content_dir, os.path.realpath(self.root), "the project")

    def survey(self) -> Listing:
        """Every file under ``content/``, walked once with ``os.scandir`` (pathlib costs
        seconds over ten thousand files).

        A symlink (to a file or a folder) is followed only when its target stays inside
        ``content/``; anything that is not a folder or a regular file is left out, and
        reported when it is a manifest or a folder (a template or a medium is reported
        where it is used). The
        real path of an entry that is no symlink is its folder's plus its name: no
        ``realpath`` per file.
        """
        manifests: list[str] = []
        others: list[str] = []
        real: dict[str, str] = {}
        problems: list[Diagnostic] = []
        try:
            content = self.real_content()
        except Refused as refused:
            return Listing([], [], {}, [Diagnostic(f"folder {refused.message}", Location(CONTENT_DIR))])
        stack = [(content, CONTENT_DIR)]
        seen: set[str] = set()  # folders by real path: a symlinked one is followed once
        while stack:
            folder, shown = stack.pop()
            if folder in seen:
                continue
            seen.add(folder)
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                rel = f"{shown}/{entry.name}"
                if not _utf8(entry.name):
                    # An address, a state key and every report are UTF-8 text.
                    problems.append(Diagnostic("the name is not valid UTF-8: rename it", Location(rel)))
                    continue
                try:
                    path, is_dir = _vet(entry, content)
                except FileNotFoundError:
                    continue  # a dangling symlink that stays inside: nothing to read
                except Refused as refused:
                    # A manifest or a folder is refused here; a template or a medium
                    # where a manifest or a template names it.
                    if _is_manifest(rel) or os.path.isdir(entry.path):
                        message = "symlink leads out of content/: nothing outside is read" \
                            if entry.is_symlink() and refused.message.startswith("leads out") \
                            else f"file {refused.message}"
                        problems.append(Diagnostic(message, Location(rel)))
                    continue
                if is_dir:
                    stack.append((path, rel))
                    continue
                (manifests if _is_manifest(rel) else others).append(rel)
                real[rel] = path
        return Listing(sorted(manifests), sorted(others), real, sorted(problems, key=Diagnostic.sort_key))

    def scan(self) -> tuple[list[str], list[str]]:
        """The manifests, then the rest (templates and media), as ``survey`` finds them."""
        listing = self.survey()
        return listing.manifests, listing.others

    def manifest_paths(self) -> list[Path]:
        """Every manifest under ``content/``, in a stable order; templates excluded."""
        return [self.root / rel for rel in self.scan()[0]]

    def shown(self, path: Path) -> str:
        """A path as messages show it: relative to the project."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def _is_manifest(rel: str) -> bool:
    return rel.endswith(MANIFEST_SUFFIXES) and not rel.startswith(f"{CONTENT_DIR}/{TEMPLATES_DIR}/")


def _vet(entry: os.DirEntry[str], content: str) -> tuple[str, bool]:
    """The real path of a scanned entry and whether it is a folder.

    Raises:
        Refused: a symlink leading out of ``content/``, or neither a folder nor a regular file.
        FileNotFoundError: a dangling symlink.
    """
    if entry.is_symlink():
        path = resolve_inside(entry.path, content, "content/")
        mode = os.stat(path).st_mode
    else:
        path = entry.path  # its folder's real path and its name: real too
        if entry.is_dir(follow_symlinks=False):
            return path, True
        if entry.is_file(follow_symlinks=False):
            return path, False
        mode = entry.stat(follow_symlinks=False).st_mode
    if stat.S_ISDIR(mode):
        return path, True
    what = kind(mode)
    if what is not None:
        raise Refused(f"is {what}, not a regular file")
    return path, False


PRIVATE_DIR = ".pipeline"


def private_dir(root: Path) -> Path:
    """``.pipeline/`` under ``root``: the sandbox, the cache and crash logs, never committed.

    Like pytest's cache, it carries its own ``.gitignore``, so no repository needs to
    be told about it.
    """
    folder = root / PRIVATE_DIR
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # a file, or a dangling symlink: refused below
    if folder.is_symlink() or not folder.is_dir():
        # A pull request can commit one: nothing is written through it, out of the project.
        raise UserError(Diagnostic(f"{PRIVATE_DIR} must be pipeline's own folder, not a symlink or a file",
                                   Location(PRIVATE_DIR), f"remove {PRIVATE_DIR}: pipeline makes it again"))
    try:  # never through a symlink, even a dangling one
        fd = os.open(folder / ".gitignore", os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except FileExistsError:
        return folder
    with os.fdopen(fd, "w") as fh:
        fh.write("# Written by pipeline: nothing here belongs in git.\n*\n")
    return folder


def find_root(start: Path) -> Path:
    """The folder holding ``pipeline.yaml``: ``start`` or one of its parents."""
    start = start.resolve()
    for folder in (start, *start.parents):
        config = folder / CONFIG_FILE
        if config.exists() and not config.is_dir():  # a FIFO too: reading it says what is wrong
            return folder
    raise UserError(Diagnostic(
        f"no {CONFIG_FILE} in {start} or any folder above it",
        hint="run from a content repository, or pass --project DIR",
    ))


_ENV_REF = re.compile(r"\$\{(env|secret):([A-Za-z_][A-Za-z0-9_]*)\}")
#: Where a ``${secret:…}`` may stand: the settings that configure and are never rendered
#: or published (``None`` matches any key). A secret in ``vars`` would reach templates.
SECRET_PLACES: tuple[tuple[str | None, ...], ...] = (("identities", None, "token"),)
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


def _secret_place(loc: Loc) -> bool:
    return any(len(place) == len(loc) and all(p is None or p == part for p, part in zip(place, loc))
               for place in SECRET_PLACES)


def _register_secrets(data: Any, doc: Document, env: Mapping[str, str],
                      problems: list[Diagnostic]) -> set[str]:
    """Register every ``${secret:NAME}`` value before anything is substituted, and refuse
    one written where it could be rendered; the names read as secrets."""
    names: set[str] = set()
    for loc, text in _strings(data, ()):
        for kind_, name in _ENV_REF.findall(text):
            if kind_ != "secret":
                continue
            names.add(name)
            if not _secret_place(loc):
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


def _substitute(value: Any, loc: Loc, doc: Document, env: Mapping[str, str],
                secret_names: set[str], problems: list[Diagnostic]) -> Any:
    """``${env:NAME}`` and ``${secret:NAME}`` in pipeline.yaml's strings, from the environment."""
    if isinstance(value, dict):
        return {k: _substitute(v, loc + (k,), doc, env, secret_names, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, loc + (i,), doc, env, secret_names, problems) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        kind_, name = match.groups()
        problem = _env_problem(name, secret_names, env) if kind_ == "env" else None
        if problem is None and name not in env:
            problem = f"environment variable {name} is not set"
        if problem is not None:
            problems.append(Diagnostic(problem, doc.locate(loc)))
            return ""
        return env[name]

    return _ENV_REF.sub(replace, value)


def load_project(root: Path, env: Mapping[str, str] | None = None) -> Project:
    """Read and validate ``pipeline.yaml``, with ``${env:…}``/``${secret:…}`` filled in.

    A ``${secret:…}`` value, like the OneAll private key, is registered for redaction
    before anything else is read: it is never shown, whatever prints it.

    Raises:
        UserError: every problem of pipeline.yaml, at its line.
    """
    env = os.environ if env is None else env
    register(env.get("ONEALL_PRIVATE_KEY"))
    doc = load(root / CONFIG_FILE, CONFIG_FILE, inside=(os.path.realpath(root), "the project"))
    if not isinstance(doc.data, dict):
        raise UserError(Diagnostic("pipeline.yaml must be a mapping", Location(CONFIG_FILE, 1, 1)))
    problems: list[Diagnostic] = []
    secret_names = _register_secrets(doc.data, doc, env, problems)
    data = _substitute(doc.data, (), doc, env, secret_names, problems)
    if problems:
        raise UserError(problems)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise UserError(diagnostics_from(exc, doc, (), what="pipeline.yaml")) from None
    return Project(root, config, doc)


def _utf8(name: str) -> bool:
    """Whether a file name (decoded as the file system does) is valid UTF-8."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

