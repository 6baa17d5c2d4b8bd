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
        before = len(sandbox.sandbox.received)
        process = start(project, env)
        # Kill after a random number of this run's requests has reached the sandbox, plus
        # a random sliver of time: mid-request, mid-journal, mid-save, all are fair game.
        target = before + rng.randint(1, PER_TRIAL - 1)
        deadline = time.monotonic() + 60
        while len(sandbox.sandbox.received) < target and process.poll() is None:
            assert time.monotonic() < deadline, "the apply never got going"
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.06))
        process.send_signal(signal.SIGKILL)
        process.communicate()
        journal = project.root / "state/state.json.journal"
        killed_midway += journal.exists()

        clean = start(project, env)
        output, _ = clean.communicate(timeout=120)
        assert clean.returncode == 0, output
        assert "Traceback" not in output

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
