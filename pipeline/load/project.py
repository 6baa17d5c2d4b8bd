"""A content repository: where ``pipeline.yaml`` is, its config, and its manifests."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from pydantic import ValidationError

from pipeline.errors import Diagnostic, Location, Refused, UserError
from pipeline.model.config import Config
from pipeline.redact import register
from pipeline.load.reads import kind, resolve_inside
from pipeline.load.source import Document, load
from pipeline.load.diagnostics import diagnostics_from
from pipeline.load.environment import register_secrets, substitute

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
                # The usual entry first, with no call per check: a printable ASCII name
                # (valid UTF-8) of a folder or a regular file, no symlink.
                if entry.name.isascii() and entry.name.isprintable() and not entry.is_symlink():
                    if entry.is_dir(follow_symlinks=False):
                        stack.append((entry.path, rel))
                        continue
                    if entry.is_file(follow_symlinks=False):
                        (manifests if rel.endswith(MANIFEST_SUFFIXES) and not rel.startswith(_TEMPLATES)
                         else others).append(rel)
                        real[rel] = entry.path
                        continue
                if not _utf8(entry.name):
                    # An address, a state key and every report are UTF-8 text.
                    problems.append(Diagnostic("the name is not valid UTF-8: rename it", Location(rel)))
                    continue
                if not entry.name.isprintable():
                    # A newline or a bidirectional mark in a name would make an address
                    # read as something else, in a plan, a log or the state.
                    problems.append(Diagnostic("the name holds a control or invisible character: rename it",
                                               Location(rel)))
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


_TEMPLATES = f"{CONTENT_DIR}/{TEMPLATES_DIR}/"


def _is_manifest(rel: str) -> bool:
    return rel.endswith(MANIFEST_SUFFIXES) and not rel.startswith(_TEMPLATES)


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
    secret_names = register_secrets(doc.data, doc, env, problems)
    data = substitute(doc.data, (), doc, env, secret_names, problems)
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

