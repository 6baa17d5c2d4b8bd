"""Soak under faults: 429s, 503s, 500s and ghosts; repeated applies converge to every post
published exactly once and every post recorded."""

from __future__ import annotations

import json
from collections import Counter

from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import Project

BOARDS = 4
PINS = 6
TWEETS = 40


def test_repeated_applies_under_faults_converge_with_no_duplicate_and_no_loss(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.write("pipeline.yaml", (project.root / "pipeline.yaml").read_text() + "settle_after: 0\n")
    tweets = "".join(f"  t{i}:\n    type: twitter.post\n    identity: acme-twitter\n    message: soak tweet {i}\n"
                     for i in range(TWEETS))
    project.write("content/tweets.yaml", "actions:\n" + tweets)
    for b in range(BOARDS):
        pins = "".join(f"  pin{p}:\n    type: pinterest.pin\n    identity: acme-pinterest\n    board: {{ref: board}}\n"
                       f"    picture: https://cdn.acme.example/{b}/{p}.png\n    description: pin {p} of board {b}\n"
                       for p in range(PINS))
        project.write(f"content/board{b}.yaml", "actions:\n  board:\n    type: pinterest.board\n"
                      f"    identity: acme-pinterest\n    name: Board {b}\n" + pins)
    total = TWEETS + BOARDS * (1 + PINS)
    faults = sandbox.sandbox.faults
    faults.rate_429, faults.rate_503, faults.rate_500, faults.ghost = 0.15, 0.10, 0.05, 0.10
    faults.retry_after, faults.ghost_delay = 0, 0.6
    env = {**site_env, "ONEALL_TIMEOUT": "0.3"}

    runs = 0
    while project.run("plan", "--detailed-exitcode", env=env).exit_code == 2:
        runs += 1
        assert runs <= 15, "no convergence"
        result = project.run("apply", "--yes", env=env)
        assert "Traceback" not in result.output
    outcomes = Counter(r.path.rsplit("/", 1)[-1] for r in sandbox.sandbox.received if r.method == "POST")
    assert runs >= 2, "the faults never bit: the soak proved nothing"
    assert sum(outcomes.values()) > total  # some requests were refused and retried

    published = sandbox.sandbox.published()
    keys = Counter(json.dumps([o["type"], o["fields"]], sort_keys=True) for o in published)
    assert len(published) == total and set(keys.values()) == {1}
    state = json.loads((project.root / "state/state.json").read_text())["resources"]
    assert len(state) == total and all(r["status"] == "published" for r in state.values())
    recorded = {v for r in state.values() for k, v in r["result"].items() if k.endswith("_id")}
    minted = {v for o in published for k, v in o["result"].items() if k.endswith("_id")}
    assert recorded == minted
