"""Cases found by review where the incremental plan differed from the full plan."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pipeline import app
from pipeline.model.state import Record
from tests.helpers import CONFIG
from pipeline.app import remember
from pipeline.load.fingerprint import fingerprint
from tests.unit.app.test_incremental_plan import NOW, both, rebase, summarised

TWEET = "actions:\n  t:\n    type: twitter.post\n    identity: acme-twitter\n    message: same words\n"
OTHER = "  other:\n    type: twitter.post\n    identity: acme-twitter\n    message: other words\n"


def _moved_while_unknown(root: Path) -> None:
    """posts/x/t is the post sent as posts/old/t, whose answer never came."""
    (root / "content/posts").mkdir(parents=True)
    (root / "pipeline.yaml").write_text(CONFIG)
    (root / "content/posts/x.yaml").write_text(TWEET)
    (root / "content/posts/y.yaml").write_text(TWEET.replace("same", "other"))
    loaded = app.load(root, {})
    store = loaded.store()
    state = store.load()
    sent = loaded.graph.actions["posts/x/t"]
    state.resources["posts/old/t"] = Record(
        type=sent.type, identity=sent.identity, digest=sent.digest, status="unknown",
        request=sent.request, published_at=NOW - timedelta(hours=1))
    store.save(state)
    rebase(root)


@pytest.mark.parametrize("edit", ["the moved post's file", "a twin of it"])
def test_a_post_moved_while_its_outcome_is_unknown(tmp_path: Path, edit: str) -> None:
    # Planned again in part, the unknown record it was matched to was not read: the
    # moved post (or a new one with the same rendering) came out "create", not "unknown".
    _moved_while_unknown(tmp_path)
    if edit == "a twin of it":
        (tmp_path / "content/posts/z.yaml").write_text(TWEET)
    else:
        (tmp_path / "content/posts/x.yaml").write_text(TWEET + OTHER)
    incremental, full = both(tmp_path)
    assert [c.kind for c in full.changes if c.address in ("posts/x/t", "posts/z/t")].count("unknown") >= 1
    assert incremental is None or incremental.changes == full.changes


PIC = "actions:\n  pic:\n    type: twitter.picture\n    identity: acme-twitter\n    url: https://cdn.example/x.png\n"
USES = "actions:\n  t:\n    type: twitter.post\n    identity: acme-twitter\n    message: {words}\n" \
       "    attachments: [{{ref: posts/a/pic}}]\n"


def _expired_picture(root: Path, published: timedelta) -> None:
    """posts/a/pic uploaded ``published`` before NOW (its network keeps it a day,
    unattached), and two new tweets, in two files, that attach it."""
    (root / "content/posts").mkdir(parents=True)
    (root / "pipeline.yaml").write_text(CONFIG)
    (root / "content/posts/a.yaml").write_text(PIC)
    (root / "content/posts/b.yaml").write_text(USES.format(words="bee"))
    (root / "content/posts/c.yaml").write_text(USES.format(words="sea"))
    loaded = app.load(root, {})
    store = loaded.store()
    state = store.load()
    pic = loaded.graph.actions["posts/a/pic"]
    state.resources["posts/a/pic"] = Record(
        type=pic.type, identity=pic.identity, digest=pic.digest, status="published",
        result={"media_id": "9"}, request=pic.request, published_at=NOW - published)
    store.save(state)
    rebase(root)


def test_the_users_an_upload_is_made_again_for_are_named_in_one_order(tmp_path: Path) -> None:
    # The reason named them in the graph's insertion order: the part's graph puts the
    # changed file's actions first.
    _expired_picture(tmp_path, timedelta(days=400))
    (tmp_path / "content/posts/c.yaml").write_text(USES.format(words="sea, edited"))
    incremental, full = both(tmp_path)
    assert incremental is not None
    assert incremental.changes == full.changes


def test_an_upload_expiring_at_the_very_moment_of_the_plan(tmp_path: Path) -> None:
    # Expired is strictly after published_at + ttl: at that instant the plan still holds
    # the upload, and one microsecond later it no longer does.
    _expired_picture(tmp_path, timedelta(hours=24))
    later = NOW + timedelta(minutes=1)
    workspace = app.open_workspace(tmp_path, {})
    prints = fingerprint(workspace.project)
    remembered = remember.from_memory(workspace, prints, later)
    loaded = app.load_workspace(workspace, prints=prints)
    full = summarised(app.make_plan(loaded, loaded.store().load(), later, frozenset()))
    assert [c.kind for c in full.changes if c.address == "posts/a/pic"] == ["create"]
    assert remembered is None or remembered.changes == full.changes


def test_two_plans_remembering_at_once_leave_a_plan_and_a_graph_that_go_together(tmp_path: Path) -> None:
    # Two plain plans at once (an editor's and a terminal's) each write plan.marshal,
    # then graph.marshal: the first's graph can land last, beside the second's plan.
    (tmp_path / "content/posts").mkdir(parents=True)
    (tmp_path / "pipeline.yaml").write_text(CONFIG)
    (tmp_path / "content/posts/a.yaml").write_text(TWEET)
    (tmp_path / "content/posts/b.yaml").write_text(TWEET.replace("same", "bee"))
    rebase(tmp_path)
    graph = tmp_path / ".pipeline/cache/graph.marshal"
    first = graph.read_bytes()
    (tmp_path / "content/posts/b.yaml").write_text(TWEET.replace("same", "bee, edited"))
    rebase(tmp_path)
    graph.write_bytes(first)  # the first run's graph, written last
    (tmp_path / "content/posts/b.yaml").write_text(TWEET.replace("same", "bee"))  # and back
    incremental, full = both(tmp_path)
    assert incremental is None or incremental.changes == full.changes
