"""Running ``pipeline`` as a user does: a process of its own, start-up included.

Each run is spawned and waited for (``os.wait4``) by ``spawn.py``, a small process of its
own, whose resource usage gives the run's wall time, CPU time and peak resident memory
(``ru_maxrss``: the largest of the process and the children it waited for, such as a
cold plan's compiling workers; not their sum). ``spawn.py`` says why it is not done here.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

HERE = Path(__file__).resolve().parent
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
    stem = root.parent / f".bench-{os.getpid()}-{time.monotonic_ns()}"
    log, measured = stem.with_suffix(".log"), stem.with_suffix(".json")
    with open(log, "w+b") as out:
        subprocess.run([sys.executable, "-I", "-S", str(HERE / "spawn.py"), str(measured),
                        sys.executable, "-m", "pipeline", "--project", str(root), *args],
                       stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=clean_env(env),
                       check=True)
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    usage = json.loads(measured.read_text())
    log.unlink()
    measured.unlink()
    run = Run(usage["seconds"], usage["cpu_seconds"], usage["peak_kb"] / 1024, usage["code"], output)
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


@dataclass
class Serving:
    env: dict[str, str]  # what points a client at the sandbox
    cpu_seconds: float = 0.0  # the sandbox's, known once it has stopped


@contextmanager
def sandbox_serve(root: Path, latency: float, db: Path) -> Iterator[Serving]:
    """``pipeline sandbox serve --latency`` in a process of its own, as a remote API would
    be (sharing the client's interpreter lock would measure contention, not apply). Its
    CPU time is measured too: on two cores, a sandbox that costs more per request than
    the client would be what an apply's figure measures."""
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
        serving = Serving(env)
        yield serving
    finally:
        server.terminate()
        _, status, usage = os.wait4(server.pid, 0)
        server.returncode = os.waitstatus_to_exitcode(status)
        log.unlink(missing_ok=True)
    serving.cpu_seconds = usage.ru_utime + usage.ru_stime
