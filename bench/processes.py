"""Running ``pipeline`` as a user does: a process of its own, start-up included.

Each run is waited for with ``os.wait4``, whose resource usage gives the process's CPU
time and its peak resident memory (``ru_maxrss``: the largest of the process and the
children it waited for, such as a cold plan's compiling workers; not their sum).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

#: Variables that would send a run to a real site, or make it behave as in CI: never
#: inherited from the shell that runs the benchmark.
SCRUBBED = ("ONEALL_", "GITHUB_", "PIPELINE_")


@dataclass(frozen=True)
class Run:
    seconds: float  # wall clock, start-up included
    cpu_seconds: float  # user + system, the process and its waited-for children
    peak_mb: float
    code: int
    output: str  # stdout and stderr


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED) and k != "CI"}
    return {**env, **(extra or {})}


def cli(root: Path, *args: str, env: Mapping[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> Run:
    """``python -m pipeline --project ROOT ARGS`` in its own process, measured."""
    log = root.parent / f".bench-{os.getpid()}-{time.monotonic_ns()}.log"
    with open(log, "w+b") as out:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "pipeline", "--project", str(root), *args],
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   env=clean_env(env))
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    log.unlink()
    run = Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode, output)
    if run.code not in ok:
        tail = "\n".join(output.splitlines()[-40:])
        raise SystemExit(f"pipeline {' '.join(args)} exited {run.code}:\n{tail}")
    return run


def median_time(runs: int, fn: Callable[[], Any], before: Callable[[], Any] = lambda: None) -> float:
    """The median wall time of ``fn`` over ``runs`` runs, ``before`` untimed before each."""
    times = []
    for _ in range(runs):
        before()
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def median_run(runs: list[Run]) -> Run:
    """The run of median wall time (its CPU and memory with it)."""
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]


@contextmanager
def sandbox_serve(root: Path, latency: float, db: Path) -> Iterator[dict[str, str]]:
    """``pipeline sandbox serve --latency`` in a process of its own, as a remote API would
    be (sharing the client's interpreter lock would measure contention, not apply).
    Yields the environment that points a client at it."""
    env = {"ONEALL_PUBLIC_KEY": "bench-public", "ONEALL_PRIVATE_KEY": "bench-private-key"}
    log = db.with_suffix(".log")
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "--project", str(root), "sandbox", "serve", "--port", "0",
             "--latency", str(latency), "--db", str(db)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=clean_env(env))
    try:
        deadline = time.monotonic() + 60
        while " on " not in (first := log.read_text().partition("\n")[0]) or "\n" not in log.read_text():
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the sandbox did not start:\n{log.read_text()}")
            time.sleep(0.05)
        env["ONEALL_API_BASE"] = first.split(" on ", 1)[1].split(" ", 1)[0]
        yield env
    finally:
        server.terminate()
        server.wait(timeout=30)
