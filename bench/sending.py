"""Apply through the CLI against a slow sandbox in a process of its own.

``pipeline apply --yes --parallelism P`` is timed as a user lives it: start-up, loading,
planning, sending, recording. The compile cache is warm (as after a plan, or in CI
whose cache is kept), and the state starts empty for every run, so that each run sends
every action.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from processes import Run, cli, sandbox_serve
from repository import IDENTITIES, config

BODIES = {"twitter": "type: twitter.post\n    message: Update {n}",
          "facebook": "type: facebook.post\n    message: Update {n}",
          "linkedin": "type: linkedin.post\n    message: Update {n}",
          "pinterest": "type: pinterest.board\n    name: Board {n}",
          "youtube": "type: youtube.playlist\n    title: Playlist {n}"}


def write_actions(root: Path, actions: int, identities: list[tuple[str, str]], per_identity: int,
                  per_file: int = 10) -> None:
    """A repository of ``actions`` independent posts, dealt round the identities, each
    identity allowed ``per_identity`` requests in flight (pipeline.yaml's ``per_identity``)."""
    (root / "content").mkdir(parents=True)
    (root / "pipeline.yaml").write_text(config(identities, f"per_identity:\n  default: {per_identity}\n"))
    for f in range(-(-actions // per_file)):
        lines = ["actions:"]
        for a in range(min(per_file, actions - f * per_file)):
            n = f * per_file + a
            name, network = identities[n % len(identities)]
            lines.append(f"  a{a}:\n    identity: {name}\n    {BODIES[network].format(n=n)}")
        (root / "content" / f"m{f:05d}.yaml").write_text("\n".join(lines) + "\n")


def published(state_file: Path) -> int:
    resources = json.loads(state_file.read_bytes())["resources"]
    return sum(1 for r in resources.values() if r["status"] == "published")


def apply_runs(root: Path, work: Path, actions: int, latency: float, parallelism: int,
               runs: int) -> list[tuple[Run, float]]:
    """``runs`` applies of every action of ``root``, each from an empty state against a
    fresh sandbox (``pipeline sandbox serve --latency``); with each, the sandbox's CPU."""
    cli(root, "plan")  # warms the compile cache (the sandbox site: nothing is sent)
    done = []
    for run in range(runs):
        shutil.rmtree(root / "state", ignore_errors=True)
        with sandbox_serve(root, latency, work / f"{root.name}-{run}.jsonl") as serving:
            applied = cli(root, "apply", "--yes", "--parallelism", str(parallelism), env=serving.env)
        sent = published(root / "state" / "state.json")
        if sent != actions:
            raise SystemExit(f"apply published {sent} of {actions} actions:\n{applied.output[-3000:]}")
        done.append((applied, serving.cpu_seconds))
    return done


def bench_apply(work: Path, latency: float, parallelism: int, ideal_seconds: float, runs: int) -> dict[str, Any]:
    """Apply over the ten identities at ``parallelism``, with enough actions that the ideal
    (actions x latency / parallelism) is ``ideal_seconds``, and per-identity bounds (
    in all at least twice ``parallelism``) that never hold it back."""
    actions = round(ideal_seconds * parallelism / latency)
    per_identity = max(4, -(-2 * parallelism // len(IDENTITIES)))
    root = work / f"apply-{parallelism}"
    write_actions(root, actions, IDENTITIES, per_identity)
    runs_done = apply_runs(root, work, actions, latency, parallelism, runs)
    run, server_cpu = sorted(runs_done, key=lambda done: done[0].seconds)[len(runs_done) // 2]  # the median
    ideal = actions * latency / parallelism
    return {"actions": actions, "latency": latency, "parallelism": parallelism, "per_identity": per_identity,
            "seconds": run.seconds, "ideal_seconds": ideal, "ratio_to_ideal": ideal / run.seconds,
            "cpu_seconds": run.cpu_seconds, "cpu_ms_per_action": run.cpu_seconds / actions * 1000,
            "sandbox_cpu_ms_per_action": server_cpu / actions * 1000,
            "peak_mb": max(r.peak_mb for r, _ in runs_done), "all_seconds": [r.seconds for r, _ in runs_done]}


def bench_backlog(work: Path, actions: int, latency: float, bound: int, parallelism: int) -> dict[str, Any]:
    """One account with ``actions`` waiting, ``bound`` requests in flight for it: the
    apply's time against the bound ``actions x latency / bound``, and the client's CPU.

    The account is a Facebook one: the sandbox compares every tweet with all of the
    account's earlier ones (Twitter refuses a duplicate), a cost per request that grows
    with the backlog and would make the sandbox, not the client, what is measured.

    The CPU of sending is the apply's less a plan's of the same repository (start-up,
    loading and planning, which an apply does too): what the scheduler, the client and
    the journal cost per action, which must not grow with the backlog."""
    root = work / f"backlog-{actions}"
    write_actions(root, actions, [("acme-facebook", "facebook")], bound, per_file=100)
    run, server_cpu = apply_runs(root, work, actions, latency, parallelism, 1)[0]
    plan = cli(root, "plan")  # warm, as the apply's was
    ideal = actions * latency / bound
    return {"actions": actions, "latency": latency, "bound": bound, "parallelism": parallelism,
            "seconds": run.seconds, "ideal_seconds": ideal, "ratio_to_ideal": ideal / run.seconds,
            "cpu_seconds": run.cpu_seconds, "plan_cpu_seconds": plan.cpu_seconds,
            "cpu_ms_per_action": run.cpu_seconds / actions * 1000,
            "send_cpu_ms_per_action": max(run.cpu_seconds - plan.cpu_seconds, 0.0) / actions * 1000,
            "sandbox_cpu_ms_per_action": server_cpu / actions * 1000, "peak_mb": run.peak_mb}
