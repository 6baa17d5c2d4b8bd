"""Compiling a whole project quickly: a cache for unchanged files, both cores for the rest.

The cache lives in ``.pipeline/cache/compile/`` (never committed, safe to delete), as
plain data in ``marshal`` form, in blobs chosen by a file's path. An entry is one
manifest's compiled result, keyed by the file's content digest, under a context
key that covers everything else a result depends on: the pipeline's own code, the
configuration in force, the templates (by content) and the media files (by path, size
and format). A file is compiled again only if its content changed. Neither a result
that holds a secret value nor one with problems is cached.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from pipeline.errors import Diagnostic, Location
from pipeline.load.compile import Compiled, FileResult, merge
from pipeline.load.fingerprint import Fingerprint, fingerprint
from pipeline.model.action import DesiredAction, RefUse
from pipeline.load.project import PRIVATE_DIR, Project, private_dir
from pipeline.redact import active as secrets_active
from pipeline.redact import contains_secret
from pipeline.load.blobs import read_blob, tracked, write_blob
from pipeline.load.workers import compile_in_parallel, compile_serially

#: Said in the plan when the cache is not used because a commit brought one.
TRACKED_NOTE = (f"ignored the cache under {PRIVATE_DIR}/: git tracks files there, and machine state "
                "that arrives in a commit is never trusted (everything was compiled afresh)")
#: Below this many files to compile, starting processes costs more than it saves.
PARALLEL_MIN = 400
#: The cache is split into this many blobs by a file's path: a change to two files reads
#: and writes two small blobs, not every result of the repository.
SHARDS = 64


class ResultCache:
    """Compiled results by file, under the context key, read one shard at a time."""

    def __init__(self, root: Path, context: str, enabled: bool = True) -> None:
        self.root, self.context, self.enabled = root, context, enabled
        self._shards: dict[int, dict[str, dict[str, Any]]] = {}
        self._dirty: set[int] = set()

    def _path(self, number: int) -> Path:
        return self.root / PRIVATE_DIR / "cache" / "compile" / f"{number:02x}.marshal"

    def _shard(self, shown: str) -> tuple[int, dict[str, dict[str, Any]]]:
        number = zlib.crc32(shown.encode()) % SHARDS
        shard = self._shards.get(number)
        return number, self._load(number) if shard is None else shard

    def get(self, shown: str, digest: str) -> dict[str, Any] | None:
        """The entry of the file with this content, if one was cached."""
        entry = self._shard(shown)[1].get(shown)
        return entry if isinstance(entry, dict) and entry.get("digest") == digest else None

    def put(self, shown: str, entry: dict[str, Any]) -> None:
        number, shard = self._shard(shown)
        if shard.get(shown) != entry:
            shard[shown] = entry
            self._dirty.add(number)

    def keep_only(self, files: Iterable[str]) -> None:
        """Forget the files that are gone (every shard is read for that)."""
        wanted = set(files)
        for number in range(SHARDS):
            shard = self._shards.get(number)
            if shard is None:
                shard = self._load(number)
            gone = [shown for shown in shard if shown not in wanted]
            for shown in gone:
                del shard[shown]
            if gone:
                self._dirty.add(number)

    def _load(self, number: int) -> dict[str, dict[str, Any]]:
        data = read_blob(self._path(number)) if self.enabled else None
        entries = data.get("entries") if isinstance(data, dict) and data.get("context") == self.context else None
        self._shards[number] = entries if isinstance(entries, dict) else {}
        return self._shards[number]

    def flush(self) -> None:
        if not self.enabled or not self._dirty:
            return
        private_dir(self.root)
        for number in sorted(self._dirty):
            write_blob(self._path(number), {"context": self.context, "entries": self._shards[number]})
        self._dirty.clear()


def compile_project(project: Project, *, use_cache: bool = True, workers: int | None = None,
                    parallel_min: int | None = None, prints: Fingerprint | None = None) -> Compiled:
    """Every manifest's result, from the cache where nothing changed, compiled otherwise."""
    prints = prints or fingerprint(project)
    notes: tuple[str, ...] = ()
    if use_cache and tracked(project.root):
        use_cache, notes = False, (TRACKED_NOTE,)
    cache = ResultCache(project.root, prints.context, use_cache)
    results = results_for(project, prints, list(prints.digests), cache, workers=workers, parallel_min=parallel_min)
    cache.keep_only(prints.digests)
    cache.flush()
    refused = FileResult((), prints.problems, ())
    compiled_all = merge([refused, *(results[shown] for shown in prints.digests)])
    return dataclasses.replace(compiled_all, notes=notes) if notes else compiled_all


def results_for(project: Project, prints: Fingerprint, files: list[str], cache: ResultCache, *,
                workers: int | None = None, parallel_min: int | None = None) -> dict[str, FileResult]:
    """The results of some manifests: from ``cache`` where their content is known to it,
    compiled (and put in it, unflushed) otherwise."""
    results: dict[str, FileResult] = {}
    todo: dict[str, str] = {}  # to compile, with the digest of what was read
    for shown in files:
        digest = prints.digests[shown]
        entry = cache.get(shown, digest)
        if entry is not None:
            results[shown] = _result_from(entry)
        else:
            todo[shown] = digest
    compiled = _compile_many(project, [(project.root / t, prints.real.get(t)) for t in todo], workers,
                             PARALLEL_MIN if parallel_min is None else parallel_min)
    for shown, result in zip(todo, compiled):
        results[shown] = result
        if result.problems:
            continue  # an error (a render that timed out on a busy machine?) is found again
        entry = {"digest": todo[shown], **_result_to(result)}
        if not secrets_active() or not contains_secret(entry):
            cache.put(shown, entry)  # a result holding a secret is never written down
    return results


def _compile_many(project: Project, paths: list[tuple[Path, str | None]], workers: int | None,
                  parallel_min: int) -> list[FileResult]:
    cores = workers or min(os.cpu_count() or 1, 8)
    if cores < 2 or len(paths) < parallel_min or "fork" not in multiprocessing.get_all_start_methods():
        return compile_serially(project, paths)
    return compile_in_parallel(project, paths, cores)


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
