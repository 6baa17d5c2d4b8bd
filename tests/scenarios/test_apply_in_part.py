"""An apply of a few changed files holds only the records it can touch, and does exactly
what an apply with everything loaded does: the same requests, the same state."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from pipeline.apply import partial
from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import CONFIG, Project

FILES = {
    "posts/a": """
        actions:
          hero:
            type: twitter.picture
            identity: acme-twitter
            url: https://cdn.acme.example/a.png
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: "A is out {% include 'signature.j2' %}"
            attachments: [{ref: hero}]
    """,
    "posts/b": """
        actions:
          post:
            type: facebook.page.post
            identity: acme-facebook
            page: "1093847562"
            message: "B, first words"
    """,
    "posts/c": """
        actions:
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: "C, to be deleted ({{ product }})"
    """,
    "boards/r": """
        actions:
          board:
            type: pinterest.board
            identity: acme-pinterest
            name: Rockets
          pin:
            type: pinterest.pin
            identity: acme-pinterest
            board: {ref: board}
            picture: https://cdn.acme.example/rocket.png
            description: "first pin"
    """,
}


def _change(project: Project) -> None:
    """An edit (PUT), a delete, a new tweet that uses a picture published long ago (its id
    comes from the state), and a new pin on a published board."""
    project.manifest("posts/b", FILES["posts/b"].replace("first words", "better words"))
    project.manifest("posts/c", FILES["posts/c"].rstrip() + "\n            deleted: true\n")
    project.manifest("posts/d", """
        actions:
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: "D uses A's picture ({{ product }})"
            attachments: [{ref: posts/a/hero}]
    """)
    project.manifest("boards/r", FILES["boards/r"].rstrip() + """
          pin2:
            type: pinterest.pin
            identity: acme-pinterest
            board: {ref: board}
            picture: https://cdn.acme.example/rocket2.png
            description: "second pin"
    """)


def _essence(project: Project) -> dict[str, Any]:
    """Each record as both twins must have it (their texts differ by name, hence their
    digests; that every digest is right, the plan after the apply shows)."""
    text = (project.root / "state/state.json").read_text()
    state = json.loads(text.replace("Rocket Quick", "Rocket Full").replace("RocketQuick", "RocketFull"))
    return {a: (r["type"], r["identity"], r["status"], r.get("request"), sorted(r.get("result", {})))
            for a, r in state["resources"].items()}


def _run(project: Project, env: dict[str, str], sandbox: SandboxServer, in_part: bool,
         monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple[str, str]], dict[str, Any], int]:
    for name, text in FILES.items():
        project.manifest(name, text)
    assert project.run("apply", "--yes", env=env).exit_code == 0
    assert project.run("plan", env=env).exit_code == 0  # remembers the plan
    _change(project)
    if not in_part:
        (project.root / ".pipeline/cache/plan.marshal").unlink()
    saves: list[int] = []
    real = partial.PartialStore.save

    def counted(self: partial.PartialStore, state: Any) -> None:
        saves.append(len(state.resources))
        real(self, state)

    monkeypatch.setattr(partial.PartialStore, "save", counted)
    before = len(sandbox.sandbox.received)
    applied = project.run("apply", "--yes", env=env)
    assert applied.exit_code == 0, applied.output
    monkeypatch.setattr(partial.PartialStore, "save", real)
    sent = sorted((r.method, r.path.split("/")[1]) for r in sandbox.sandbox.received[before:])
    again = project.run("plan", "--detailed-exitcode", env=env)
    assert again.exit_code == 0, again.output  # nothing left to do
    assert len(saves) == (1 if in_part else 0)
    return sent, _essence(project), (saves[0] if saves else 0)


def test_an_apply_in_part_does_what_an_apply_in_full_does(
        tmp_path: Path, sandbox: SandboxServer, site_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    full = Project(tmp_path / "full")
    quick = Project(tmp_path / "quick")
    for p, name in ((full, "Full"), (quick, "Quick")):  # one sandbox: tweets must differ
        p.write("pipeline.yaml", CONFIG.replace("Acme Rocket", f"Acme Rocket {name}"))
        p.write("content/templates/signature.j2", "#{{ product | replace(' ', '') }}\n")
    sent_full, state_full, _ = _run(full, site_env, sandbox, False, monkeypatch)
    sent_quick, state_quick, held = _run(quick, site_env, sandbox, True, monkeypatch)
    assert sent_quick == sent_full  # a tweet and a pin posted, an edit, a delete
    assert sent_full == [("DELETE", "update"), ("POST", "push"), ("POST", "push"), ("PUT", "update")]
    assert state_quick == state_full
    assert 0 < held < len(state_quick)  # it held a part of the state, not all of it


def test_a_move_or_an_unknown_outcome_takes_the_full_path(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name, text in FILES.items():
        project.manifest(name, text)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    assert project.run("plan", env=site_env).exit_code == 0
    shutil.move(project.root / "content/boards/r.yaml", project.root / "content/boards/moved.yaml")
    saves: list[int] = []
    monkeypatch.setattr(partial.PartialStore, "save", lambda self, state: saves.append(1))
    applied = project.run("apply", "--yes", env=site_env)
    assert applied.exit_code == 0 and "moved" in applied.output
    assert saves == []


def test_a_snapshot_not_in_canonical_form_is_never_read_in_part(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even with the plan remembered exactly, an apply reads records straight from a
    snapshot only if the plan found it canonical (the embedded sandbox: no signature)."""
    project.manifest("posts/a", FILES["posts/a"])
    assert project.run("apply", "--yes").exit_code == 0
    state = project.root / ".pipeline/sandbox/state.json"
    data = json.loads(state.read_text())
    data["resources"] = dict(reversed(data["resources"].items()))  # the same state, its records unsorted
    state.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    project.manifest("posts/c", FILES["posts/c"])
    assert project.run("plan").exit_code == 0  # remembered, against that snapshot
    saves: list[int] = []
    monkeypatch.setattr(partial.PartialStore, "save", lambda self, state: saves.append(1))
    applied = project.run("apply", "--yes")
    assert applied.exit_code == 0 and "1 published" in applied.output, applied.output
    assert saves == []


def test_a_post_moved_while_its_outcome_is_unknown_is_never_sent_again_in_part(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    """Found by review: a post whose request's answer never came, then moved, is planned
    "unknown" under its new address by the full plan (matched to the old record, which
    is then no orphan). Planned again in part (its file edited), the old record was not
    read, so the incremental plan said "create", and the apply in part, seeing no unknown
    outcome to settle, sent it a second time."""
    tweet = """
        actions:
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: "Sent once, answered never"
    """
    project.manifest("posts/y", FILES["posts/b"])
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    project.manifest("posts/old", tweet)
    sandbox.sandbox.faults.gateway_502 = 1.0  # carried out, then a proxy's page: unknown
    project.run("apply", "--yes", env=site_env)
    sandbox.sandbox.faults.gateway_502 = 0.0
    shutil.move(project.root / "content/posts/old.yaml", project.root / "content/posts/x.yaml")
    planned = project.run("plan", env=site_env)  # in full (the state changed): remembered
    assert "unknown" in planned.output, planned.output
    project.manifest("posts/x", tweet.rstrip() + """
          other:
            type: twitter.post
            identity: acme-twitter
            message: "A second tweet in the moved file"
    """)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    sent = [r for r in sandbox.sandbox.received if r.method == "POST" and "answered never" in json.dumps(r.body)]
    assert len(sent) == 1, "the post whose outcome was unknown was sent twice"


def test_an_orphan_whose_outcome_is_unknown_is_settled_as_in_full(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    """Found by review: an apply in full reads back every unknown outcome first, an
    orphan's too; its row is an "orphan", not "unknown", and the apply in part went on
    without settling it."""
    project.manifest("posts/y", FILES["posts/b"])
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    project.manifest("posts/old", FILES["posts/c"])
    sandbox.sandbox.faults.gateway_502 = 1.0  # carried out, then a proxy's page: unknown
    project.run("apply", "--yes", env=site_env)
    sandbox.sandbox.faults.gateway_502 = 0.0
    (project.root / "content/posts/old.yaml").unlink()
    assert project.run("plan", env=site_env).exit_code == 0  # in full (the state changed): remembered
    project.manifest("posts/y", FILES["posts/b"].replace("first words", "better words"))
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    state = json.loads((project.root / "state/state.json").read_text())
    assert state["resources"]["posts/old/tweet"]["status"] == "published"  # found by reading back


def test_a_remembered_plan_that_a_commit_brought_is_never_used(project: Project, sandbox: SandboxServer) -> None:
    """A pull request's run in CI can read the key file of main's cache, so it can MAC a
    blob: a plan committed under .pipeline/ (here: one saying there is nothing to do) is
    used neither by plan nor by apply. (Held at review; kept as a guard.)"""
    from pipeline.load.blobs import read_blob, write_blob

    project.git("init", "-q")
    project.manifest("posts/b", FILES["posts/b"])
    assert project.run("plan").exit_code == 0  # remembered
    blob = project.root / ".pipeline/cache/plan.marshal"
    forged = read_blob(blob)
    forged["plan"]["changes"] = []
    write_blob(blob, forged)
    project.git("add", "-f", ".pipeline/cache/plan.marshal")
    project.git("commit", "-qm", "a plan that says nothing")
    planned = project.run("plan")
    assert "1 to create" in planned.output, planned.output
    applied = project.run("apply", "--yes")
    assert "1 published" in applied.output, applied.output
