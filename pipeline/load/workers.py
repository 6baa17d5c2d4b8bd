"""Compiling many manifests on every core: this process and forked helpers share the work.

The files are cut into small batches, which each process takes in turn from a shared
counter as it becomes free, so that all finish together however the machine is loaded.
This process compiles batches too: its results need no transfer. A helper's results
come back as plain tuples (pickling the result objects themselves costs three times
as much), read by a thread while this process compiles, and are rebuilt here.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import threading
import traceback
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Callable, Iterator

from pipeline.errors import Diagnostic, Location, Refused
from pipeline.load.compile import FileResult, compile_file
from pipeline.load.project import Project
from pipeline.model.action import DesiredAction, RefUse

Paths = list[tuple[Path, "str | None"]]
#: Files per batch: small enough that the last batches even out, large enough that
#: taking a turn costs nothing.
BATCH = 24


@contextmanager
def compiling(project: Project) -> Iterator[Callable[[Path, str | None], FileResult]]:
    """A function compiling one file of ``project`` (its real path, if a scan found it),
    with one renderer for them all: templates are read and compiled once."""
    from pipeline.load.render import Renderer  # Jinja only when something is compiled

    try:
        content: str | None = project.real_content()
    except Refused:
        content = None  # the scan reports it; no template is read from outside
    templates = project.templates_dir if content is not None and project.templates_dir.is_dir() else None
    renderer = Renderer(templates, within=content)
    content_dir = project.content_dir
    root = f"{project.root}/"

    def compile_one(path: Path, real: str | None) -> FileResult:
        # A path under the root is shown as the rest of its text (pathlib's relative_to
        # costs more than reading the file); any other as the project words it.
        text = str(path)
        shown = text[len(root):] if os.sep == "/" and text.startswith(root) else None
        return compile_file(project, renderer, path, real, shown=shown, content_dir=content_dir)

    # A compile keeps most of what it allocates (the results): at the collector's usual
    # pace it would scan them again and again. Less often, cycles (a template's) are
    # still collected, at most some tens of thousands of objects late.
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], 50_000), max(threshold[1], 20), max(threshold[2], 100))
    try:
        with renderer.watching():
            yield compile_one
    finally:
        gc.set_threshold(*threshold)


def compile_serially(project: Project, paths: Paths) -> list[FileResult]:
    with compiling(project) as compile_one:
        return [compile_one(path, real) for path, real in paths]


def compile_in_parallel(project: Project, paths: Paths, cores: int) -> list[FileResult]:
    """Every file's result, in order, compiled by this process and ``cores - 1`` forked ones."""
    from pipeline.load.render import preload

    preload()  # Jinja imported once, before the fork, for all

    context = multiprocessing.get_context("fork")
    batches = [paths[i:i + BATCH] for i in range(0, len(paths), BATCH)]
    try:
        turn = context.Value("q", 0)  # the next batch to take
    except OSError:  # no shared memory for its lock (a locked-down container): one core it is
        return compile_serially(project, paths)
    done: dict[int, list[FileResult]] = {}
    failures: list[BaseException] = []
    helpers = []
    # What exists now is never collected during the compile, so neither process's
    # collector touches (and so copies) the pages that they share. (Unless the program
    # freezes objects itself: then it decides when they thaw.)
    freezing = gc.get_freeze_count() == 0
    if freezing:
        gc.freeze()
    readers = []
    try:
        for _ in range(cores - 1):
            receiving, sending = context.Pipe(duplex=False)
            process = context.Process(target=_helper, args=(project, batches, turn, sending), daemon=True)
            process.start()
            sending.close()  # this end is the helper's: its exit is then seen as the end
            helpers.append((process, receiving))
        # The readers start once every helper is forked: a fork copies one thread only.
        for _, receiving in helpers:
            readers.append(threading.Thread(target=_receive, args=(receiving, done, failures), daemon=True))
            readers[-1].start()
        with compiling(project) as compile_one:
            for index in _turns(turn, len(batches)):
                done[index] = [compile_one(path, real) for path, real in batches[index]]
        for (process, _), reader in zip(helpers, readers):
            reader.join()
            process.join()
            if failures:
                raise failures[0]
            if process.exitcode != 0:
                raise RuntimeError(f"a compiling process ended with exit code {process.exitcode}")
    finally:
        if freezing:
            gc.unfreeze()
        for process, receiving in helpers:
            if process.is_alive():
                process.kill()
                process.join()
            receiving.close()
    return [result for index in range(len(batches)) for result in done[index]]


def _turns(turn: Any, count: int) -> Iterator[int]:
    while True:
        with turn.get_lock():
            index = turn.value
            turn.value = index + 1
        if index >= count:
            return
        yield index


def _helper(project: Project, batches: list[Paths], turn: Any, sending: Connection) -> None:
    # A forked process: everything arrives in its memory, nothing is pickled on the way in.
    try:
        with compiling(project) as compile_one:
            for index in _turns(turn, len(batches)):
                results = [_flat(compile_one(path, real)) for path, real in batches[index]]
                sending.send_bytes(pickle.dumps((index, results), protocol=pickle.HIGHEST_PROTOCOL))
    except BaseException as exc:  # noqa: BLE001 - whatever it is, the parent raises it
        where = "".join(traceback.format_exception(exc))
        try:
            failure = pickle.dumps((-1, (exc, where)))
        except Exception:  # noqa: BLE001 - an exception that cannot travel travels as text
            failure = pickle.dumps((-1, (RuntimeError(where), where)))
        sending.send_bytes(failure)
    finally:
        sending.close()


def _receive(receiving: Connection, done: dict[int, list[FileResult]], failures: list[BaseException]) -> None:
    while True:
        try:
            index, payload = pickle.loads(receiving.recv_bytes())
        except (EOFError, OSError):
            return
        if index < 0:
            failure, where = payload
            # Its traceback, for the crash log, is the helper's.
            failure.__cause__ = RuntimeError(f"in a compiling process:\n{where}")
            failures.append(failure)
        else:
            done[index] = [_unflat(flat) for flat in payload]


# A helper's result as plain tuples: by position, in the order of the fields below (a
# test checks them, so that a field added to one of these types is never dropped).
FIELDS = {
    DesiredAction: ("address", "type", "identity", "token", "request", "refs", "publish_at", "location",
                    "digest", "deleted"),
    RefUse: ("field", "target", "location"),
    Location: ("path", "line", "col"),
    Diagnostic: ("message", "location", "hint"),
    FileResult: ("actions", "problems", "broken"),
}


def _flat(result: FileResult) -> tuple[Any, ...]:
    return (
        tuple((a.address, a.type, a.identity, a.token, a.request,
               tuple((r.field, r.target, r.location.path, r.location.line, r.location.col) for r in a.refs),
               a.publish_at, a.location.path, a.location.line, a.location.col, a.digest, a.deleted)
              for a in result.actions),
        tuple((d.message, None if d.location is None else (d.location.path, d.location.line, d.location.col),
               d.hint) for d in result.problems),
        result.broken,
    )


def _unflat(flat: tuple[Any, ...]) -> FileResult:
    actions, problems, broken = flat
    return FileResult(
        tuple(DesiredAction(address, type_, identity, token, request,
                            tuple(RefUse(field, target, Location(path, line, col))
                                  for field, target, path, line, col in refs),
                            publish_at, Location(path, line, col), digest, deleted)
              for address, type_, identity, token, request, refs, publish_at, path, line, col, digest, deleted
              in actions),
        tuple(Diagnostic(message, None if where is None else Location(*where), hint)
              for message, where, hint in problems),
        broken)
