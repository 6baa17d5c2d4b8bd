"""Plans (and one apply) of a repository of N published manifests, through the CLI."""

from __future__ import annotations

import itertools
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from processes import Run, cli
from repository import NEW_DIR, change, csafe_parse, recorded

#: Every change made in a run of the benchmark has a number of its own, so that its
#: text was never compiled before.
CHANGES = itertools.count(1)
PLANNED = "Plan: 3 to create, 1 to update,"  # what the plan of one change must say


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def prepare(root: Path, count: int) -> int:
    """Generate ``count`` manifests and record them all as published: all but one
    written into the sandbox state directly, and that one (the manifest every change
    edits) published by ``pipeline apply`` itself, which proves that the CLI reads the
    state written here and leaves the compile cache warm. Returns the actions recorded."""
    say(f"generating {count:,} manifests in {root} and recording them as published")
    # In a process of its own, so that this one does not keep the project's memory.
    written = subprocess.run([sys.executable, str(Path(__file__).with_name("repository.py")), str(root), str(count)],
                             check=True, capture_output=True, text=True).stdout.strip()
    state_file = root / ".pipeline" / "sandbox" / "state.json"
    assert Path(written) == state_file, written
    before = recorded(state_file)
    say(f"{before:,} actions recorded; publishing the last manifest through the CLI")
    seeded = cli(root, "apply", "--yes")
    after = recorded(state_file)
    if after != before + 3 or "Apply: 3 published" not in seeded.output:
        raise SystemExit(f"the seeding apply did not read the state written ({before} -> {after}):\n"
                         f"{seeded.output[-3000:]}")
    return after


def drop_cache(root: Path) -> None:
    shutil.rmtree(root / ".pipeline" / "cache", ignore_errors=True)


def incremental(root: Path, runs: int) -> dict[str, Any]:
    """``pipeline plan`` of one change (1 new manifest, 1 edited) among N published, the
    cache warm from the run before; each run's parse is measured just before its plan,
    so that both see the same machine."""
    parses, plans = [], []
    for _ in range(runs):
        started = time.perf_counter()
        csafe_parse(root)
        parses.append(time.perf_counter() - started)
        change(root, next(CHANGES), "planned")
        plan = cli(root, "plan")
        if PLANNED not in plan.output:
            raise SystemExit(f"the plan of one change is not what it should be:\n{plan.output[-3000:]}")
        plans.append(plan)
    parse = statistics.median(parses)
    seconds = statistics.median(p.seconds for p in plans)
    return {"parse_seconds": parse, "seconds": seconds, "ratio": seconds / parse,
            "cpu_seconds": statistics.median(p.cpu_seconds for p in plans),
            "peak_mb": max(p.peak_mb for p in plans), "all_seconds": [p.seconds for p in plans]}


def apply_change(root: Path) -> Run:
    """``pipeline apply --yes`` of one change, against the embedded sandbox (no
    ``ONEALL_*`` variables: the sandbox state that ``prepare`` wrote)."""
    (root / NEW_DIR / "planned.yaml").unlink(missing_ok=True)  # planned, never applied
    number = next(CHANGES)
    change(root, number, f"applied-{number}")
    applied = cli(root, "apply", "--yes")
    if "Apply: 3 published, 1 edited" not in applied.output:
        raise SystemExit(f"the apply of one change is not what it should be:\n{applied.output[-3000:]}")
    return applied


def big(root: Path, count: int, runs: int) -> dict[str, Any]:
    """At ``count`` manifests: the incremental plan, and peak memory of an incremental
    plan, a cold plan (no cache) and the apply of one change."""
    started = time.perf_counter()
    actions = prepare(root, count)
    cli(root, "plan")  # the cache warm, and the plan remembered, as before any pull request
    prepared = time.perf_counter() - started
    say(f"prepared in {prepared:.0f} s; incremental plans")
    result: dict[str, Any] = {"manifests": count, "actions_in_state": actions, "prepare_seconds": prepared}
    result["incremental"] = incremental(root, runs)
    say("cold plan")
    drop_cache(root)
    cold = cli(root, "plan")
    result["plan_cold"] = {"seconds": cold.seconds, "ratio": cold.seconds / result["incremental"]["parse_seconds"],
                           "cpu_seconds": cold.cpu_seconds, "peak_mb": cold.peak_mb}
    say("apply of one change")
    applied = apply_change(root)
    result["apply_change"] = {"seconds": applied.seconds, "cpu_seconds": applied.cpu_seconds,
                              "peak_mb": applied.peak_mb}
    return result
