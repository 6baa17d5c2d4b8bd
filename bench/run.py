"""The benchmark harness: is pipeline fast enough at an agency's scale?

    python bench/run.py [--quick] [--no-100k] [--manifests 10000] [--big 100000] [--runs 3]

Every figure is measured through the CLI, as a user lives it: ``python -m pipeline`` in
a process of its own, start-up included, spawned and waited for by ``spawn.py`` (wall
time, CPU time, peak resident memory of the process and its waited-for children; see
``spawn.py`` for why not by this process). Timings of plans are ratios to the time
PyYAML's C loader (CSafeLoader) takes merely to parse the same files in the same run,
so that a slower or busier machine moves both. Medians over ``--runs`` runs unless said
otherwise; peak memory is the largest over the runs.

A content repository of N manifests (10,000: 30,000 actions; realistic templates,
includes, references within and across files, ten identities on five networks) is
generated and every action recorded as published, as applies record it (ids, times,
the request sent); one manifest is published by ``pipeline apply`` itself, which checks
that the CLI reads the state written. On it:

- validate and plan, cold (no cache) and warm (nothing changed since the last plan);
- the preview (a card per action, the calendar): time and largest page;
- the peak memory of a cold plan;
- the incremental plan: each run changes the repository by one new manifest and one
  edited one (a Facebook post edited in place: "3 to create, 1 to update"), their text
  new every run so that no cache holds it, and times ``pipeline plan``.

A second repository of 100,000 manifests (``--big``; skipped with ``--no-100k``),
prepared the same way, gives the incremental plan at that size, the peak memory of an
incremental plan, of a cold plan (cache dropped), and of ``pipeline apply --yes`` of one
change (1 new manifest, 1 edited: 3 posts published and 1 edited, against the embedded
sandbox, whose state is the one prepared).

Apply through the CLI: ``pipeline apply --yes --parallelism P`` against ``pipeline
sandbox serve --latency 0.05`` in a process of its own, at P = 8 and 32, with enough
actions over the ten identities that the ideal ``actions x latency / P`` is 6.25 s
(1,000 and 4,000 actions) and per-identity bounds that allow P in flight; each run
from an empty state with the compile cache warm. Its figure is the ideal over the time.

One account with a 20,000-action backlog: one (Facebook) identity whose ``per_identity``
bound is 8, ``--parallelism 32``, a sandbox answering in 30 ms, one run, against the bound
``20,000 x latency / 8`` (75 s). The client's CPU time per action of sending (the
apply's CPU less a plan's of the same repository) at 20,000 vs at 1,000 must be flat.
The sandbox's own CPU per action is printed beside every apply: on two cores, what it
costs is taken from the client.

Also: recording one result with 10 vs 10,000 actions in the state (in-process, the
journal's append), and ``pipeline --help`` / ``--version`` against ``python -c "import
click"``.

It prints one table, checks every target (``scoreboard.py``: issue 15's and every earlier
one; MISS for any not met, and exit status 1) and writes bench/results.json. ``--quick``
is a short run for development (2,000 and 10,000 manifests, one run, smaller applies
and backlog), labelled as such, whose results are not written unless ``--out`` is given.
It is a script, not a test: timings on a shared machine belong here, not in the suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from plans import big, drop_cache, incremental, prepare, say
from processes import cli, median_time
from repository import csafe_parse
from sending import bench_apply, bench_backlog
from scoreboard import print_report, targets

HERE = Path(__file__).resolve().parent
QUICK = {"manifests": 2_000, "big": 10_000, "runs": 1, "apply_seconds": 2.0, "backlog": 2_000,
         "backlog_small": 200}
FULL = {"manifests": 10_000, "big": 100_000, "runs": 3, "apply_seconds": 6.25, "backlog": 20_000,
        "backlog_small": 1_000}


def bench_preview(root: Path, out: Path, runs: int, parse: float) -> dict[str, float]:
    """The whole preview of the repository (its compile cache warm, as after a plan): the
    time to write it, and how large its pages are."""
    seconds = median_time(runs, lambda: cli(root, "preview", "--out", str(out)))
    pages = [p.stat().st_size for p in out.rglob("*.html")]
    return {"seconds": seconds, "ratio": seconds / parse, "pages": len(pages),
            "largest_page_kb": max(pages) / 1024, "site_mb": sum(p.stat().st_size for p in out.rglob("*")
                                                                 if p.is_file()) / 2**20}


def bench_record(work: Path, repeat: int = 300) -> dict[str, float]:
    """Recording one result with a small and a large state: a journal append either way."""
    from pipeline.model.state import Record
    from pipeline.apply.store import StateStore
    from pipeline.model.journal import Published

    stores = {}
    for size in (10, 10_000):
        store = StateStore(work / f"record-{size}" / "state.json", "bench")
        state = store.load()
        for i in range(size):
            state.resources[f"posts/p{i}/tweet"] = Record(
                type="twitter.post", identity="acme", digest="sha256:x", status="published",
                result={"post_id": str(i), "post_location": f"https://twitter.com/acme/status/{i}"})
        store.save(state)
        stores[size] = (store, state)

    def record_many(size: int) -> Callable[[], None]:
        store, state = stores[size]

        def run() -> None:
            for i in range(repeat):
                store.commit(state, Published(
                    f"new/{i}", type="twitter.post", identity="acme", digest="sha256:y",
                    result={"post_id": str(i)}, at="2026-12-01T09:00:00+00:00"))
        return run

    # Each record is an fsynced append, whose time wanders with the disk: the two sizes
    # are measured in turns, many times, so both see the same disk.
    samples: dict[int, list[float]] = {10: [], 10_000: []}
    for _ in range(7):
        for size in samples:
            samples[size].append(median_time(1, record_many(size)) / repeat)
    costs = {size: statistics.median(times) for size, times in samples.items()}
    return {"seconds_at_10": costs[10], "seconds_at_10000": costs[10_000],
            "ratio": costs[10_000] / costs[10]}


def cli_start(runs: int) -> dict[str, float]:
    def run(*cmd: str) -> Callable[[], Any]:
        return lambda: subprocess.run(cmd, capture_output=True, check=True)

    click = median_time(runs, run(sys.executable, "-c", "import click"))
    help_ = median_time(runs, run(sys.executable, "-m", "pipeline", "--help"))
    version = median_time(runs, run(sys.executable, "-m", "pipeline", "--version"))
    return {"import_click_seconds": click, "help_seconds": help_, "version_seconds": version,
            "help_ratio": help_ / click, "version_ratio": version / click}


def bench_repository(root: Path, work: Path, count: int, runs: int) -> dict[str, Any]:
    """Everything measured on the N-manifest repository."""
    results: dict[str, Any] = {"actions_in_state": prepare(root, count)}
    say("measuring the parse, validate and plan")
    parse = median_time(runs, lambda: csafe_parse(root))
    results["parse_csafe_seconds"] = parse
    for command in ("validate", "plan"):
        cold = median_time(runs, lambda c=command: cli(root, c), before=lambda: drop_cache(root))  # type: ignore[misc]
        cli(root, command)
        warm = median_time(runs, lambda c=command: cli(root, c))  # type: ignore[misc]
        results[f"{command}_cold_seconds"], results[f"{command}_warm_seconds"] = cold, warm
        results[f"{command}_cold_ratio"], results[f"{command}_warm_ratio"] = cold / parse, warm / parse
    say("preview")
    results["preview"] = bench_preview(root, work / "preview", runs, parse)
    drop_cache(root)
    results["plan_peak_memory_mb"] = cli(root, "plan").peak_mb
    say("incremental plans")
    results["incremental"] = incremental(root, runs)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run for development (not written)")
    parser.add_argument("--no-100k", dest="skip_big", action="store_true", help="skip the --big repository")
    parser.add_argument("--manifests", type=int, help="the repository's size (10,000; quick: 2,000)")
    parser.add_argument("--big", type=int, help="the large repository's size (100,000; quick: 10,000)")
    parser.add_argument("--runs", type=int, help="runs of each timing (3; quick: 1)")
    parser.add_argument("--apply-seconds", type=float, help="the ideal time of each apply (6.25; quick: 2)")
    parser.add_argument("--latency", type=float, default=0.05, help="the sandbox's latency for apply")
    parser.add_argument("--backlog", type=int, help="the one account's backlog (20,000; quick: 2,000)")
    parser.add_argument("--backlog-small", type=int, help="the small backlog, for CPU (1,000; quick: 200)")
    parser.add_argument("--backlog-latency", type=float, default=0.03)
    parser.add_argument("--backlog-bound", type=int, default=8, help="the account's per_identity bound")
    parser.add_argument("--out", type=Path, help="where to write the results (bench/results.json; "
                                                  "quick: not written)")
    args = parser.parse_args()
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.out is None and not args.quick:
        args.out = HERE / "results.json"

    began = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    results: dict[str, Any] = {}
    try:
        results.update(bench_repository(work / "repo", work, args.manifests, args.runs))
        if not args.skip_big:
            results["big"] = big(work / "big", args.big, args.runs)
            shutil.rmtree(work / "big", ignore_errors=True)  # a few GB of files
        for parallelism in (8, 32):
            say(f"apply through the CLI at --parallelism {parallelism}")
            results[f"apply_p{parallelism}"] = bench_apply(work, args.latency, parallelism, args.apply_seconds,
                                                           args.runs)
        for size in (args.backlog_small, args.backlog):
            say(f"one account, a backlog of {size:,}")
            results[f"backlog_{size}"] = bench_backlog(work, size, args.backlog_latency, args.backlog_bound, 32)
        results["backlog"], results["backlog_small"] = (results.pop(f"backlog_{args.backlog}"),
                                                        results.pop(f"backlog_{args.backlog_small}"))
        results["backlog"]["send_cpu_ratio_to_small"] = (results["backlog"]["send_cpu_ms_per_action"]
                                                         / results["backlog_small"]["send_cpu_ms_per_action"])
        say("recording, start-up")
        results["record"] = bench_record(work)
        results["cli"] = cli_start(max(args.runs, 5))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["harness_seconds"] = time.perf_counter() - began
    results["machine"] = {"cores": os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform(), "manifests": args.manifests,
                          "big": None if args.skip_big else args.big, "runs": args.runs, "quick": args.quick}
    checked = targets(results, args)
    met = print_report(results, args, checked)
    results["targets"] = [{"name": n, "value": v, "op": o, "bound": b,
                           "met": None if v is None else (v <= b if o == "<=" else v >= b)}
                          for n, v, o, b in checked]
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        print(f"\nwrote {args.out}")
    else:
        print("\nresults not written (--quick; --out FILE writes them)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
