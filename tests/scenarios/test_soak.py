"""Soak under faults: 429s, 503s, 500s and ghosts; repeated applies converge to every post
published exactly once and every post recorded."""

from __future__ import annotations

import json
from collections import Counter

from pipeline.catalog import BY_TYPE
from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import Project

BOARDS = 4
PINS = 6
TWEETS = 40


def _converge(project: Project, env: dict[str, str], most: int = 20) -> int:
    """Apply until the plan has nothing left to do; the number of applies it took."""
    runs = 0
    while project.run("plan", "--detailed-exitcode", env=env).exit_code == 2:
        runs += 1
        assert runs <= most, "no convergence"
        result = project.run("apply", "--yes", env=env)
        assert "Traceback" not in result.output
    return runs


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

    runs = _converge(project, env, most=15)
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


PAGE = "1093847562"


def _mixed(project: Project, *, edited: bool) -> None:
    """Tweets (with links: Twitter rewrites them), page posts and pins; the second time,
    page posts and pins edited, and some of each type deleted."""
    tweets = "".join(
        f"  t{i}:\n    type: twitter.post\n    identity: acme-twitter\n"
        f"    message: soak tweet {i} https://acme.example/p/{i}\n"
        + ("    deleted: true\n" if edited and i % 4 == 0 else "") for i in range(TWEETS // 2))
    pages = "".join(
        f"  p{i}:\n    type: facebook.page.post\n    identity: acme-facebook\n    page: \"{PAGE}\"\n"
        f"    message: page post {i}{' (edited)' if edited else ''}\n"
        + ("    deleted: true\n" if edited and i % 3 == 0 else "") for i in range(12))
    pins = "".join(
        f"  pin{p}:\n    type: pinterest.pin\n    identity: acme-pinterest\n    board: {{ref: board}}\n"
        f"    picture: https://cdn.acme.example/{p}.png\n    description: pin {p}{' (edited)' if edited else ''}\n"
        + ("    deleted: true\n" if edited and p == 0 else "") for p in range(PINS))
    project.write("content/mixed.yaml", "actions:\n" + tweets + pages
                  + "  board:\n    type: pinterest.board\n    identity: acme-pinterest\n    name: Board\n" + pins)


def test_mixed_creates_edits_and_deletes_converge_under_faults_with_oneall_hours_away(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    from pipeline.oneall.pull import normalise_text

    project.write("pipeline.yaml", (project.root / "pipeline.yaml").read_text() + "settle_after: 0\n")
    box = sandbox.sandbox
    box.pull_shape, box.rewrite_links, box.clock_offset = "nested", True, -5 * 3600.0
    faults = box.faults
    faults.rate_429, faults.rate_503, faults.rate_500, faults.ghost = 0.10, 0.10, 0.05, 0.08
    faults.gateway_502, faults.retry_after, faults.ghost_delay = 0.05, 0, 0.6
    env = {**site_env, "ONEALL_TIMEOUT": "0.3"}

    _mixed(project, edited=False)
    runs = _converge(project, env)
    _mixed(project, edited=True)
    runs += _converge(project, env)
    assert runs >= 3, "the faults never bit: the soak proved nothing"
    assert any(r.method == "PUT" for r in box.received) and any(r.method == "DELETE" for r in box.received)

    live = box.published()
    keys = Counter(json.dumps([o["type"], {k: normalise_text(v) if isinstance(v, str) else v
                                           for k, v in o["fields"].items()}], sort_keys=True) for o in live)
    assert set(keys.values()) == {1}, "a duplicate"
    by_type = Counter(o["type"] for o in live)
    assert by_type == {"twitter.post": TWEETS // 2 - len(range(0, TWEETS // 2, 4)),
                       "facebook.page.post": 12 - 4, "pinterest.board": 1, "pinterest.pin": PINS - 1}
    assert all(o["fields"].get("message", o["fields"].get("description", "")).endswith("(edited)")
               for o in live if o["type"] in ("facebook.page.post", "pinterest.pin"))
    state = json.loads((project.root / "state/state.json").read_text())["resources"]
    deleted = {a for a, r in state.items() if r["status"] == "deleted"}
    assert len(deleted) == len(range(0, TWEETS // 2, 4)) + 4 + 1
    def own_id(kind: str, result: dict[str, str]) -> str:
        return result[BY_TYPE[kind].id_field]

    recorded = {own_id(r["type"], r["result"]) for r in state.values() if r["status"] == "published"}
    assert recorded == {own_id(o["type"], o["result"]) for o in live}  # every live post, and only those
