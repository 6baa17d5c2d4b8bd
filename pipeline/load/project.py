"""A content repository: where ``pipeline.yaml`` is, its config, and its manifests."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from pydantic import ValidationError

from pipeline.errors import Diagnostic, Location, UserError
from pipeline.model.config import Config
from pipeline.redact import register
from pipeline.load.source import Document, Loc, load
from pipeline.load.diagnostics import diagnostics_from

CONFIG_FILE = "pipeline.yaml"
CONTENT_DIR = "content"
TEMPLATES_DIR = "templates"  # under content/
MANIFEST_SUFFIXES = (".yaml", ".yml")


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

    def scan(self) -> tuple[list[str], list[str]]:
        """Every file under ``content/`` as project-relative POSIX paths, in a stable
        order: the manifests, then the rest (templates and media). One walk, with
        ``os.scandir``: pathlib costs seconds over ten thousand files."""
        manifests: list[str] = []
        others: list[str] = []
        stack = [(str(self.content_dir), CONTENT_DIR)]
        seen: set[str] = set()  # folders by real path: a symlinked one is followed once
        while stack:
            folder, shown = stack.pop()
            real = os.path.realpath(folder)
            if real in seen:
                continue
            seen.add(real)
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                rel = f"{shown}/{entry.name}"
                if entry.is_dir():  # symlinked folders too: Jinja's loader follows them
                    stack.append((entry.path, rel))
                elif entry.is_file():
                    in_templates = rel.startswith(f"{CONTENT_DIR}/{TEMPLATES_DIR}/")
                    is_manifest = rel.endswith(MANIFEST_SUFFIXES) and not in_templates
                    (manifests if is_manifest else others).append(rel)
        return sorted(manifests), sorted(others)

    def manifest_paths(self) -> list[Path]:
        """Every manifest under ``content/``, in a stable order; templates excluded."""
        return [self.root / rel for rel in self.scan()[0]]

    def shown(self, path: Path) -> str:
        """A path as messages show it: relative to the project."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


PRIVATE_DIR = ".pipeline"


def private_dir(root: Path) -> Path:
    """``.pipeline/`` under ``root``: the sandbox, the cache and crash logs, never committed.

    Like pytest's cache, it carries its own ``.gitignore``, so no repository needs to
    be told about it.
    """
    folder = root / PRIVATE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Written by pipeline: nothing here belongs in git.\n*\n")
    return folder


def find_root(start: Path) -> Path:
    """The folder holding ``pipeline.yaml``: ``start`` or one of its parents."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise UserError(Diagnostic(
        f"no {CONFIG_FILE} in {start} or any folder above it",
        hint="run from a content repository, or pass --project DIR",
    ))


_ENV_REF = re.compile(r"\$\{(env|secret):([A-Za-z_][A-Za-z0-9_]*)\}")


def _substitute(value: Any, loc: Loc, doc: Document, env: Mapping[str, str],
                problems: list[Diagnostic]) -> Any:
    """``${env:NAME}`` and ``${secret:NAME}`` in pipeline.yaml's strings, from the environment.

    A ``secret`` value is registered for redaction: it is never shown, whatever prints it.
    """
    if isinstance(value, dict):
        return {k: _substitute(v, loc + (k,), doc, env, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, loc + (i,), doc, env, problems) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        kind, name = match.groups()
        if name not in env:
            problems.append(Diagnostic(f"environment variable {name} is not set", doc.locate(loc)))
            return ""
        if kind == "secret":
            register(env[name])
        return env[name]

    return _ENV_REF.sub(replace, value)


def load_project(root: Path, env: Mapping[str, str] | None = None) -> Project:
    """Read and validate ``pipeline.yaml``, with ``${env:…}``/``${secret:…}`` filled in."""
    doc = load(root / CONFIG_FILE, CONFIG_FILE)
    if not isinstance(doc.data, dict):
        raise UserError(Diagnostic("pipeline.yaml must be a mapping", Location(CONFIG_FILE, 1, 1)))
    problems: list[Diagnostic] = []
    data = _substitute(doc.data, (), doc, os.environ if env is None else env, problems)
    if problems:
        raise UserError(problems)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise UserError(diagnostics_from(exc, doc, (), what="pipeline.yaml")) from None
    return Project(root, config, doc)
