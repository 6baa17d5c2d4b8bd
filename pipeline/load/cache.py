"""Compiling a whole project quickly: a cache for unchanged files, both cores for the rest.

The cache lives in ``.pipeline/cache/`` (never committed, safe to delete), as plain
data in ``marshal`` form. An entry is
one manifest's compiled result, keyed by the file's content digest, under a context
key that covers everything else a result depends on: the pipeline's own code, the
configuration in force, the templates (by content) and the media files (by path, size
and format). A file is compiled again only if its content changed. Neither a result
that holds a secret value nor one with problems is cached.
"""

from __future__ import annotations

import dataclasses
import hashlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.errors import Diagnostic, Location, Refused
from pipeline.load.compile import Compiled, FileResult, compile_file, merge
from pipeline.model.action import DesiredAction, RefUse
from pipeline.load.project import PRIVATE_DIR, Project, private_dir
from pipeline.load.reads import opened, read_capped
from pipeline.load.source import MAX_FILE_BYTES
from pipeline.load.bounds import MAX_TEMPLATE_BYTES
from pipeline.redact import active as secrets_active
from pipeline.redact import contains_secret
from pipeline.load.blobs import read_blob, tracked, write_blob

CACHE_FORMAT = 2
#: Said in the plan when the cache is not used because a commit brought one.
TRACKED_NOTE = (f"ignored the cache under {PRIVATE_DIR}/: git tracks files there, and machine state "
                "that arrives in a commit is never trusted (everything was compiled afresh)")
#: Below this many files to compile, starting processes costs more than it saves.
PARALLEL_MIN = 400


@dataclass(frozen=True)
class Fingerprint:
    """What a project's compiled result depends on: the context key, and each manifest's
    content digest, in order; with where each file really is, and what the scan refused."""

    context: str
    digests: dict[str, str]
    real: dict[str, str] = field(default_factory=dict)
    problems: tuple[Diagnostic, ...] = ()

    def key(self) -> str:
        digest = hashlib.sha256(self.context.encode())
        for shown, file_digest in self.digests.items():
            digest.update(f"{shown}:{file_digest}\n".encode())
        return digest.hexdigest()


def fingerprint(project: Project) -> Fingerprint:
    """Every file read and hashed: a stat-based shortcut would miss an edit that kept the
    size and the time (cp -p, rsync -a, tar), and reading is cheap. Only what a scan of
    ``content/`` let through is read, and never more than a manifest's cap; a file
    refused here is compiled again, which words the refusal."""
    listing = project.survey()
    digests = {}
    for shown in listing.manifests:
        try:
            digests[shown] = hashlib.sha256(read_capped(listing.real[shown], MAX_FILE_BYTES, checked=True)).hexdigest()
        except Refused as refused:
            digests[shown] = f"refused: {refused.message}"
    # What the scan refused is part of the context: a plan remembered before a FIFO or
    # a symlink leading out appeared is not the plan of the project now.
    context = _context_key(project, listing.others, listing.real, listing.problems)
    return Fingerprint(context, digests, listing.real, tuple(listing.problems))


def compile_project(project: Project, *, use_cache: bool = True, workers: int | None = None,
                    parallel_min: int | None = None, prints: Fingerprint | None = None) -> Compiled:
    """Every manifest's result, from the cache where nothing changed, compiled otherwise."""
    prints = prints or fingerprint(project)
    cache_path = project.root / PRIVATE_DIR / "cache" / "compile.marshal"
    context = prints.context
    notes: tuple[str, ...] = ()
    if use_cache and tracked(project.root):
        use_cache, notes = False, (TRACKED_NOTE,)
    entries = _read_cache(cache_path, context) if use_cache else {}
    results: dict[str, FileResult] = {}
    fresh: dict[str, dict[str, Any]] = {}
    todo: dict[str, str] = {}  # to compile, with the digest of what was read
    for shown, digest in prints.digests.items():
        entry = entries.get(shown)
        if entry and entry["digest"] == digest:
            results[shown] = _result_from(entry)
            fresh[shown] = entry
            continue
        todo[shown] = digest
    compiled = _compile_many(project, [(project.root / t, prints.real.get(t)) for t in todo], workers,
                             PARALLEL_MIN if parallel_min is None else parallel_min)
    for shown, result in zip(todo, compiled):
        results[shown] = result
        if result.problems:
            continue  # an error (a render that timed out on a busy machine?) is found again
        entry = {"digest": todo[shown], **_result_to(result)}
        if not secrets_active() or not contains_secret(entry):
            fresh[shown] = entry  # a result holding a secret is never written down
    if use_cache and (todo or len(fresh) != len(entries)):
        private_dir(project.root)
        _write_cache(cache_path, context, fresh)
    refused = FileResult((), prints.problems, ())
    compiled_all = merge([refused, *(results[shown] for shown in prints.digests)])
    return dataclasses.replace(compiled_all, notes=notes) if notes else compiled_all


def _compile_many(project: Project, paths: list[tuple[Path, str | None]], workers: int | None,
                  parallel_min: int) -> list[FileResult]:

    cores = workers or min(os.cpu_count() or 1, 8)
    if cores < 2 or len(paths) < parallel_min or "fork" not in multiprocessing.get_all_start_methods():
        return _compile_serially(project, paths)
    global _PROJECT
    _PROJECT = project  # inherited by the forked workers: nothing to pickle on the way in
    chunks = [paths[i::cores * 4] for i in range(cores * 4)]
    with ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("fork")) as pool:
        done = list(pool.map(_compile_chunk, chunks))
    by_path = {p: r for chunk, results in zip(chunks, done) for p, r in zip(chunk, results)}
    return [by_path[p] for p in paths]


_PROJECT: Project | None = None


def _compile_chunk(paths: list[tuple[Path, str | None]]) -> list[FileResult]:

    assert _PROJECT is not None
    return _compile_serially(_PROJECT, paths)


def _compile_serially(project: Project, paths: list[tuple[Path, str | None]]) -> list[FileResult]:
    from pipeline.load.render import Renderer  # Jinja only when something is compiled

    try:
        content: str | None = project.real_content()
    except Refused:
        content = None  # the scan reports it; no template is read from outside
    templates = project.templates_dir if content is not None and project.templates_dir.is_dir() else None
    renderer = Renderer(templates, within=content)
    with renderer.watching():
        return [compile_file(project, renderer, path, real) for path, real in paths]


def _context_key(project: Project, others: list[str], real: dict[str, str],
                 refused: list[Diagnostic]) -> str:
    """What every result depends on besides its own file: this code, the configuration,
    the templates (by content) and the media files (by size and format: only their
    existence, size and format matter), and what the scan refused."""
    digest = hashlib.sha256(f"{CACHE_FORMAT}:{__version__}:{_code_digest()}:".encode())
    digest.update(project.config.model_dump_json().encode())
    templates = f"{project.shown(project.templates_dir)}/"
    for shown in others:
        if shown.startswith(templates):
            try:
                content = hashlib.sha256(read_capped(real[shown], MAX_TEMPLATE_BYTES, checked=True)).hexdigest()
            except Refused as why:
                content = f"refused: {why.message}"
            digest.update(f"{shown}:{content}\n".encode())
        else:
            # By size and first bytes (the format): not by time, which every checkout
            # changes, so that a cache restored in CI stays warm.
            try:
                with opened(real[shown], checked=True) as (fd, info):
                    head = os.read(fd, 16)
            except (Refused, OSError):
                continue
            digest.update(f"{shown}:{info.st_size}:{head.hex()}\n".encode())
    for problem in refused:
        digest.update(f"refused {problem}\n".encode())
    return digest.hexdigest()


_CODE: list[str] = []


def _code_digest() -> str:
    """A digest of this package's own source: a fix to validation or rendering must not
    be hidden by results cached by the code before it (the version alone moves rarely)."""
    if not _CODE:
        digest = hashlib.sha256()
        for path in sorted(Path(__file__).parent.rglob("*.py")):
            digest.update(path.read_bytes())
        _CODE.append(digest.hexdigest())
    return _CODE[0]


def _read_cache(path: Path, context: str) -> dict[str, dict[str, Any]]:
    # marshal: plain data (no code is ever loaded from it), read four times faster than JSON.
    data = read_blob(path)
    if not isinstance(data, dict) or data.get("context") != context:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def _write_cache(path: Path, context: str, entries: dict[str, dict[str, Any]]) -> None:
    write_blob(path, {"context": context, "entries": entries})


def _loc(location: Location | None) -> list[Any] | None:
    return None if location is None else [location.path, location.line, location.col]


def _unloc(value: list[Any] | None) -> Location | None:
    return None if value is None else Location(value[0], value[1], value[2])


def _result_to(result: FileResult) -> dict[str, Any]:
    # By field name, so that a field added to DesiredAction can never be read into
    # another's place (the code digest in the context key also drops old entries).
    return {
        "actions": [{
            "address": a.address, "type": a.type, "identity": a.identity, "token": a.token,
            "request": a.request,
            "refs": [{"field": r.field, "target": r.target, "location": _loc(r.location)} for r in a.refs],
            "publish_at": a.publish_at.isoformat() if a.publish_at else None,
            "location": _loc(a.location), "digest": a.digest, "deleted": a.deleted,
        } for a in result.actions],
        "problems": [{"message": d.message, "location": _loc(d.location), "hint": d.hint}
                     for d in result.problems],
        "broken": list(result.broken),
    }


def _result_from(entry: dict[str, Any]) -> FileResult:
    actions = tuple(
        DesiredAction(
            address=a["address"], type=a["type"], identity=a["identity"], token=a["token"],
            request=a["request"],
            refs=tuple(RefUse(r["field"], r["target"], _unloc(r["location"]) or Location(""))
                       for r in a["refs"]),
            publish_at=datetime.fromisoformat(a["publish_at"]) if a["publish_at"] else None,
            location=_unloc(a["location"]) or Location(""), digest=a["digest"], deleted=a["deleted"])
        for a in entry["actions"])
    problems = tuple(Diagnostic(d["message"], _unloc(d["location"]), d["hint"]) for d in entry["problems"])
    return FileResult(actions, problems, tuple(entry["broken"]))
