"""Crash safety: apply is SIGKILLed at random moments; nothing is lost or posted twice."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import PRIVATE_KEY, PUBLIC_KEY, Project

TRIALS = 8
PER_TRIAL = 15  # 120 actions in all


def start(project: Project, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "pipeline", "--project", str(project.root),
                             "apply", "--yes", "--parallelism", "4"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            text=True, env={**os.environ, **env})


def test_random_sigkills_never_lose_or_duplicate_a_post(project: Project, sandbox: SandboxServer) -> None:
    rng = random.Random(20261201)
    env = {"ONEALL_API_BASE": sandbox.url, "ONEALL_PUBLIC_KEY": PUBLIC_KEY, "ONEALL_PRIVATE_KEY": PRIVATE_KEY}
    project.write("pipeline.yaml", (project.root / "pipeline.yaml").read_text() + "settle_after: 0\n")
    sandbox.sandbox.faults.latency = 0.05
    killed_midway = 0
    for trial in range(TRIALS):
        actions = "".join(
            f"  t{i}:\n    type: twitter.post\n    identity: acme-twitter\n    message: trial {trial} tweet {i}\n"
            for i in range(PER_TRIAL))
        project.write(f"content/trial{trial}.yaml", "actions:\n" + actions)
        killed_midway += _kill_midway(project, sandbox, env, rng, PER_TRIAL)

    assert killed_midway >= TRIALS // 2, "too few kills landed during a run to prove anything"
    state = json.loads((project.root / "state/state.json").read_text())
    messages = Counter(o["fields"]["message"] for o in sandbox.sandbox.published("twitter.post"))
    assert len(messages) == TRIALS * PER_TRIAL
    assert set(messages.values()) == {1}, [m for m, n in messages.items() if n > 1]
    published = {o["result"]["post_id"] for o in sandbox.sandbox.published("twitter.post")}
    records = state["resources"]
    assert len(records) == TRIALS * PER_TRIAL
    assert all(r["status"] == "published" for r in records.values())
    assert {r["result"]["post_id"] for r in records.values()} == published
    assert not (project.root / "state/state.json.journal").exists()


def _kill_midway(project: Project, sandbox: SandboxServer, env: dict[str, str], rng: random.Random,
                 requests: int) -> bool:
    """Start an apply, SIGKILL it after a random share of ``requests``; then a clean apply.
    Whether the kill landed during a run (a journal was left) is returned."""
    before = len(sandbox.sandbox.received)
    process = start(project, env)
    # Kill after a random number of this run's requests has reached the sandbox, plus
    # a random sliver of time: mid-request, mid-journal, mid-save, all are fair game.
    target = before + rng.randint(1, max(1, requests - 1))
    deadline = time.monotonic() + 60
    while len(sandbox.sandbox.received) < target and process.poll() is None:
        assert time.monotonic() < deadline, "the apply never got going"
        time.sleep(0.002)
    time.sleep(rng.uniform(0, 0.06))
    process.send_signal(signal.SIGKILL)
    process.communicate()
    killed = (project.root / "state/state.json.journal").exists()
    clean = start(project, env)
    output, _ = clean.communicate(timeout=120)
    assert clean.returncode == 0, output
    assert "Traceback" not in output
    return killed


def test_random_sigkills_during_edits_and_deletes_leave_none_undone_and_nothing_twice(
        project: Project, sandbox: SandboxServer) -> None:
    rng = random.Random(20261202)
    env = {"ONEALL_API_BASE": sandbox.url, "ONEALL_PUBLIC_KEY": PUBLIC_KEY, "ONEALL_PRIVATE_KEY": PRIVATE_KEY}
    project.write("pipeline.yaml", (project.root / "pipeline.yaml").read_text() + "settle_after: 0\n")
    box = sandbox.sandbox
    box.faults.latency = 0.05
    box.clock_offset, box.pull_shape = 3 * 3600.0, "nested"  # OneAll's clock three hours ahead
    rounds, posts = 4, 10
    killed = 0

    def write(round_: int) -> None:
        """Round r creates posts of round r, edits those of r-1, deletes a third of r-2."""
        actions = []
        for r in range(round_ + 1):
            for i in range(posts):
                gone = r <= round_ - 2 and i % 3 == 0
                text = f"round {r} post {i}" + (" (edited)" if r <= round_ - 1 else "")
                actions.append(f"  r{r}p{i}:\n    type: facebook.page.post\n    identity: acme-facebook\n"
                               f"    page: \"1093847562\"\n    message: {text}\n"
                               + ("    deleted: true\n" if gone else ""))
        project.write("content/pages.yaml", "actions:\n" + "".join(actions))

    for round_ in range(rounds):
        write(round_)
        killed += _kill_midway(project, sandbox, env, rng, posts * 2)
    write(rounds)  # the last edits and deletes, without a kill
    clean = start(project, env)
    assert clean.communicate(timeout=120)[0] and clean.returncode == 0
    assert killed >= rounds // 2, "too few kills landed during a run to prove anything"

    live = {o["fields"]["message"] for o in box.published("facebook.page.post")}
    expected = {f"round {r} post {i} (edited)" for r in range(rounds + 1) for i in range(posts)
                if not (r <= rounds - 2 and i % 3 == 0)} - {f"round {rounds} post {i} (edited)" for i in range(posts)}
    expected |= {f"round {rounds} post {i}" for i in range(posts)}
    assert live == expected
    assert len(box.published("facebook.page.post")) == len(expected)  # nothing twice
    records = json.loads((project.root / "state/state.json").read_text())["resources"]
    assert sum(r["status"] == "deleted" for r in records.values()) == (rounds - 1) * len(range(0, posts, 3))
    assert all(r["status"] in ("published", "deleted") for r in records.values())
