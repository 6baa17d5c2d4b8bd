"""A plan of a few changed files, made from the remembered one, is exactly the full plan.

Random repositories (references within and across files, schedules, deletes, boards and
pins, uploads that expire) with random states (published as rendered or otherwise,
unknown outcomes, replaced posts, orphans), then random edits: after each one the
incremental plan, when it is taken, must equal the full plan change for change.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline import app
from pipeline.app import remember
from pipeline.errors import UserError
from pipeline.load.fingerprint import fingerprint
from pipeline.model.plan import Plan
from pipeline.model.state import Record
from tests.helpers import CONFIG

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def manifest(rng: random.Random, n: int, files: int) -> str:
    when = rng.choice(["", "", "", "2026-11-30T09:00:00+00:00", "2027-01-05T09:00:00+00:00"])
    lines = ["actions:",
             "  pic:", "    type: twitter.picture", "    identity: acme-twitter",
             f"    url: https://cdn.example/{n}-{rng.randrange(3)}.png",
             "  tweet:", "    type: twitter.post", "    identity: acme-twitter",
             f"    message: tweet {n} v{rng.randrange(3)}", "    attachments: [{ref: pic}]"]
    if when:
        lines.append(f"    publish_at: '{when}'")
    if rng.random() < 0.15:
        lines.append("    deleted: true")
    other = rng.randrange(files)
    if other != n and rng.random() < 0.4:
        lines += ["  cross:", "    type: twitter.post", "    identity: acme-twitter",
                  f"    message: again {n}", f"    attachments: [{{ref: posts/p{other:02d}/pic}}]"]
    if rng.random() < 0.3:
        lines += ["  board:", "    type: pinterest.board", "    identity: acme-pinterest", f"    name: Board {n}",
                  "  pin:", "    type: pinterest.pin", "    identity: acme-pinterest", "    board: {ref: board}",
                  f"    link: https://acme.example/{n}", "    picture: https://cdn.example/pin.png",
                  f"    description: pin {n} v{rng.randrange(2)}"]
    return "\n".join(lines) + "\n"


def record_state(root: Path, rng: random.Random) -> None:
    """A state as a history of applies might leave it, for the project as it is now."""
    loaded = app.load(root, {})
    store = loaded.store()
    state = store.load()
    for address, action in loaded.graph.actions.items():
        roll = rng.random()
        if roll < 0.25:
            continue  # never published
        digest, request = action.digest, action.request
        if roll < 0.4:
            digest, request = "sha256:old", {**action.request, "message": "as it was"}
        state.resources[address] = Record(
            type=action.type, identity=action.identity, digest=digest,
            status="unknown" if roll > 0.95 else "published",
            result={f"{action.endpoint.object}_id": str(rng.randrange(10**9))}, request=request,
            published_at=NOW - timedelta(days=rng.choice([1, 3, 400])))
    for n in range(3):  # posts whose manifests are gone
        state.resources[f"posts/gone{n}/tweet"] = Record(
            type="twitter.post", identity="acme-twitter", digest=f"sha256:gone{n}", status="published",
            result={"post_id": str(n)}, published_at=NOW - timedelta(days=2))
    store.save(state)


def summarised(plan: Plan) -> Plan:
    listed = tuple(c for c in plan.changes if c.kind != "noop" or c.moved_from)
    return replace(plan, changes=listed, noop_omitted=len(plan.changes) - len(listed))


def both(root: Path) -> tuple[Plan | None, Plan]:
    workspace = app.open_workspace(root, {})
    prints = fingerprint(workspace.project)
    incremental = remember.incremental_plan(workspace, prints, NOW)
    loaded = app.load_workspace(workspace, prints=prints)
    full = summarised(app.make_plan(loaded, loaded.store().load(), NOW, frozenset()))
    return incremental, full


def rebase(root: Path) -> None:
    """A full plan, remembered (unless the repository does not plan now)."""
    workspace = app.open_workspace(root, {})
    prints = fingerprint(workspace.project)
    try:
        app.plan_and_remember(app.load_workspace(workspace, prints=prints), prints, NOW)
    except UserError:
        pass


@pytest.mark.parametrize("seed", range(6))
def test_the_incremental_plan_is_the_full_plan(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    root = tmp_path / "repo"
    files = 24
    (root / "content/posts").mkdir(parents=True)
    (root / "pipeline.yaml").write_text(CONFIG)
    for n in range(files):
        (root / f"content/posts/p{n:02d}.yaml").write_text(manifest(rng, n, files))
    record_state(root, rng)
    rebase(root)
    taken = 0
    for step in range(20):
        n = rng.randrange(files)
        path = root / f"content/posts/p{n:02d}.yaml"
        what = rng.random()
        if what < 0.15 and path.exists():
            path.unlink()  # orphans, and references left dangling
        elif what < 0.25 and path.exists():
            path.rename(root / f"content/posts/moved{step}.yaml")  # a move
        else:
            path.write_text(manifest(rng, n, files))
        if step % 7 == 6:
            rebase(root)
        try:
            incremental, full = both(root)
        except UserError:  # a dangling reference: the full plan refuses; so must the other
            workspace = app.open_workspace(root, {})
            assert remember.incremental_plan(workspace, fingerprint(workspace.project), NOW) is None
            for k in range(files):  # put back what is referenced: its records are orphans until then
                if not (root / f"content/posts/p{k:02d}.yaml").exists():
                    (root / f"content/posts/p{k:02d}.yaml").write_text(manifest(rng, k, files))
            continue
        if incremental is not None:
            taken += 1
            assert incremental.changes == full.changes, f"seed {seed}, step {step}"
            assert incremental.noop_omitted == full.noop_omitted
            assert (incremental.state_lineage, incremental.state_serial) == (full.state_lineage, full.state_serial)
    print(f"seed {seed}: incremental taken {taken} times")
    assert taken >= 5  # the incremental path was really exercised


def test_a_changed_state_or_a_journal_means_a_full_plan(tmp_path: Path) -> None:
    rng = random.Random(99)
    root = tmp_path / "repo"
    (root / "content/posts").mkdir(parents=True)
    (root / "pipeline.yaml").write_text(CONFIG)
    for n in range(4):
        (root / f"content/posts/p{n:02d}.yaml").write_text(manifest(rng, n, 4))
    record_state(root, rng)
    rebase(root)
    (root / "content/posts/p00.yaml").write_text(manifest(rng, 0, 4) + "# edited\n")
    assert both(root)[0] is not None
    state = root / ".pipeline/sandbox/state.json"
    journal = state.with_name("state.json.journal")
    journal.write_text("")
    assert both(root)[0] is None
    journal.unlink()
    state.write_text(state.read_text().replace('"serial": 1', '"serial": 1 '))  # not canonical
    assert both(root)[0] is None
