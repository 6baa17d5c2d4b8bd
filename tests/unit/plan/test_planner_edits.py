"""The planner's edits and deletes: update, changed, delete, tombstones, replaced posts."""

from __future__ import annotations

from dataclasses import replace as dc_replace
from datetime import datetime, timezone
from typing import Any

from pipeline.model.action import DesiredAction
from pipeline.model.state import Record, State
from pipeline.plan import graph
from pipeline.plan.planner import plan
from tests.unit.plan.test_planner import NOW, act, state

PAGE = {"page": "1093", "message": "Launch day"}


def sent(action: DesiredAction, request: dict[str, Any] | None = None, **kw: Any) -> Record:
    """The record of ``action`` as published with ``request`` (default: as it renders now)."""
    fields: dict[str, Any] = dict(type=action.type, identity="acme", digest="sha256:old", status="published",
                                  result={"post_id": "1"}, published_at=NOW, request=request)
    fields.update(kw)
    return Record(**fields)


def changes(actions: list[DesiredAction], st: State, **kw: Any) -> list[Any]:
    return list(plan(graph.build(actions), st, NOW, **kw).changes)


def test_an_editable_field_changed_on_an_editable_type_is_one_update() -> None:
    a = act("p/a", "facebook.page.post", **{**PAGE, "message": "Launch day!"})
    [change] = changes([a], state(p__a=sent(a, PAGE)))
    assert change.kind == "update"
    assert [(d.field, d.old, d.new) for d in change.diff] == [("message", "Launch day", "Launch day!")]


def test_a_field_the_update_api_cannot_change_is_changed_not_update() -> None:
    old = {"board": "b1", "picture": "https://cdn.example/a.png", "description": "d"}
    a = act("p/pin", "pinterest.pin", **{**old, "picture": "https://cdn.example/b.png"})
    [change] = changes([a], state(p__pin=sent(a, old, result={"pin_id": "9"})))
    assert change.kind == "changed" and "can edit only description, link" in (change.reason or "")
    assert [d.field for d in change.diff] == ["picture"]


def test_a_tweet_that_renders_differently_is_changed_and_offers_replace_or_accept() -> None:
    a = act("p/t", message="new text")
    [change] = changes([a], state(p__t=sent(a, {"message": "old text"})))
    assert change.kind == "changed"
    assert "--replace p/t" in (change.reason or "") and "pipeline state accept p/t" in (change.reason or "")
    assert [(d.old, d.new) for d in change.diff] == [("old text", "new text")]


def test_what_was_sent_unknown_is_changed_even_on_an_editable_type() -> None:
    a = act("p/a", "facebook.page.post", **PAGE)
    [change] = changes([a], state(p__a=sent(a, None)))
    assert change.kind == "changed" and change.diff == ()


def test_deleted_true_on_a_published_action_is_one_delete() -> None:
    a = dc_replace(act("p/t"), deleted=True)
    [change] = changes([a], state(p__t=sent(a, digest=a.digest)))
    assert change.kind == "delete" and change.depends_on == ()


def test_deleted_true_on_a_never_published_action_does_nothing() -> None:
    a = dc_replace(act("p/t"), deleted=True)
    [change] = changes([a], state())
    assert change.kind == "noop" and "never published" in (change.reason or "")


def test_a_tombstone_is_never_published_again_even_without_deleted_true() -> None:
    a = act("p/t")
    tomb = sent(a, status="deleted", deleted_at=NOW)
    for action in (a, dc_replace(a, deleted=True)):
        [change] = changes([action], state(p__t=tomb))
        assert change.kind == "noop" and "deleted on 2026-12-01" in (change.reason or "")


def test_a_tombstone_is_published_anew_only_when_asked() -> None:
    a = act("p/t")
    [change] = changes([a], state(p__t=sent(a, status="deleted")), replace=frozenset({"p/t"}))
    assert change.kind == "create" and not change.replace


def test_replace_of_a_deletable_type_says_the_old_post_is_deleted_after() -> None:
    a = act("p/t", message="new")
    [change] = changes([a], state(p__t=sent(a, {"message": "old"})), replace=frozenset({"p/t"}))
    assert change.kind == "create" and change.replace and "then deletes the old post" in (change.reason or "")


def test_replace_of_a_type_oneall_cannot_delete_says_the_old_post_stays_online() -> None:
    a = act("p/l", "linkedin.post", message="new")
    [change] = changes([a], state(p__l=sent(a, {"message": "old"})), replace=frozenset({"p/l"}))
    assert "the old post stays online" in (change.reason or "")


def test_a_replaced_post_not_yet_deleted_is_a_pending_delete_of_its_own() -> None:
    a = act("p/t")
    old = sent(a, {"message": "old"}, result={"post_id": "1"})
    new = sent(a, digest=a.digest, result={"post_id": "2"}, superseded=old)
    result = plan(graph.build([a]), state(p__t=new), NOW)
    assert [(c.kind, c.key) for c in result.changes] == [("noop", "p/t"), ("delete", "p/t (replaced post)")]
    assert result.pending and result.changes[1].record == old


def test_a_removed_manifest_is_an_orphan_that_says_how_to_delete_it() -> None:
    gone = act("p/gone")
    [change] = changes([], state(p__gone=sent(gone, digest=gone.digest)))
    assert change.kind == "orphan" and "deleted: true" in (change.reason or "")


def test_an_update_waits_for_a_picture_it_attaches_that_is_scheduled() -> None:
    later = datetime(2027, 1, 1, tzinfo=timezone.utc)
    pic = act("p/pic", "facebook.page.picture", publish_at=later, page="1093", url="https://cdn.example/a.png")
    a = act("p/a", "facebook.page.post", **{**PAGE, "attachments": [{"ref": "p/pic"}]})
    got = {c.address: c.kind for c in changes([pic, a], state(p__a=sent(a, PAGE)))}
    assert got == {"p/pic": "wait", "p/a": "wait"}
