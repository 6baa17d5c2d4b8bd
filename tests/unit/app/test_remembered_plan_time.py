"""A remembered plan holds until the first moment the full plan would differ: every
schedule in the graph counts, not only the rows that wait (found by review)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pipeline import app
from pipeline.app import remember
from pipeline.load.fingerprint import fingerprint
from pipeline.model.plan import Plan
from tests.helpers import CONFIG
from tests.unit.app.test_incremental_plan import NOW, rebase, summarised


def _both(root: Path, now: object) -> tuple[Plan | None, Plan]:
    workspace = app.open_workspace(root, {})
    prints = fingerprint(workspace.project)
    remembered = remember.from_memory(workspace, prints, now)  # type: ignore[arg-type]
    loaded = app.load_workspace(workspace, prints=prints)
    return remembered, summarised(app.make_plan(loaded, loaded.store().load(), now, frozenset()))  # type: ignore[arg-type]


def _project(root: Path, manifest: str) -> None:
    (root / "content/posts").mkdir(parents=True)
    (root / "pipeline.yaml").write_text(CONFIG)
    (root / "content/posts/a.yaml").write_text(manifest)
    rebase(root)


def _same_or_none(root: Path, now: object) -> None:
    remembered, full = _both(root, now)
    assert remembered is None or remembered.changes == full.changes


def test_a_post_blocked_by_its_picture_turns_overdue(tmp_path: Path) -> None:
    # The tweet was due an hour ago but waits for its picture, scheduled in two days:
    # a "wait" row whose own time is past. After late_after it is overdue.
    _project(tmp_path, f"""actions:
  pic:
    type: twitter.picture
    identity: acme-twitter
    url: https://cdn.example/x.png
    publish_at: '{(NOW + timedelta(days=2)).isoformat()}'
  t:
    type: twitter.post
    identity: acme-twitter
    message: hi
    attachments: [{{ref: pic}}]
    publish_at: '{(NOW - timedelta(hours=1)).isoformat()}'
""")
    _same_or_none(tmp_path, NOW + timedelta(days=1))


def test_an_upload_waiting_for_a_user_that_is_no_wait_row(tmp_path: Path) -> None:
    # The picture waits for its only user's time; that user is a tombstone never
    # published (a "noop" row), so its time was not remembered: the picture came due.
    _project(tmp_path, f"""actions:
  pic:
    type: twitter.picture
    identity: acme-twitter
    url: https://cdn.example/x.png
  t:
    type: twitter.post
    identity: acme-twitter
    message: hi
    attachments: [{{ref: pic}}]
    deleted: true
    publish_at: '{(NOW + timedelta(days=2)).isoformat()}'
""")
    _same_or_none(tmp_path, NOW + timedelta(days=2, hours=1))
