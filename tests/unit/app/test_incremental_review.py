"""Cases found by review where the incremental plan differed from the full plan."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pipeline import app
from pipeline.model.state import Record
from tests.helpers import CONFIG
from tests.unit.app.test_incremental_plan import NOW, both, rebase

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
