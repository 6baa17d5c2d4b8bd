"""The planner: tiny pure cases, no files, no network."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from pipeline.plan import graph
from pipeline.errors import Location, UserError
from pipeline.model.action import DesiredAction, RefUse, request_digest
from pipeline.model.state import Record, State
from pipeline.plan.planner import plan

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
TOKEN = "923843ec-1749-4cc1-988f-d6963f3b1baa"


def act(address: str, type_name: str = "twitter.post", publish_at: datetime | None = None,
        **request: Any) -> DesiredAction:
    request = request or {"message": f"hello from {address}"}
    refs = []
    for field, value in request.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and "ref" in item:
                refs.append(RefUse(field, item["ref"], Location("x.yaml", 1, 1)))
    return DesiredAction(address, type_name, "acme", TOKEN, request, tuple(refs), publish_at,
                         Location("x.yaml", 1, 1), request_digest(type_name, TOKEN, request))


def published(action: DesiredAction, digest: str | None = None, **result: str) -> Record:
    return Record(type=action.type, identity="acme", digest=digest or action.digest,
                  status="published", result=result or {"post_id": "1"}, published_at=NOW)


def state(**records: Record) -> State:
    return State(lineage="l", site="sandbox", resources={k.replace("__", "/"): v for k, v in records.items()})


def kinds(actions: list[DesiredAction], st: State | None = None, **kw: Any) -> list[tuple[str, str]]:
    result = plan(graph.build(actions), st or state(), NOW, **kw)
    return [(c.kind, c.address) for c in result.changes]


def test_new_action_is_created() -> None:
    assert kinds([act("p/a")]) == [("create", "p/a")]


def test_published_and_unchanged_is_noop() -> None:
    a = act("p/a")
    assert kinds([a], state(p__a=published(a))) == [("noop", "p/a")]


def test_published_but_rendered_differently_is_changed_and_sends_nothing() -> None:
    a = act("p/a")
    result = plan(graph.build([a]), state(p__a=published(a, digest="sha256:old")), NOW)
    assert [c.kind for c in result.changes] == ["changed"]
    assert not result.pending
    assert "cannot edit" in (result.changes[0].reason or "")


def test_replace_turns_changed_into_create() -> None:
    a = act("p/a")
    result = plan(graph.build([a]), state(p__a=published(a, digest="sha256:old")), NOW,
                  replace=frozenset({"p/a"}))
    assert [(c.kind, c.replace) for c in result.changes] == [("create", True)]


def test_in_state_but_not_in_manifests_is_orphan_and_listed_last() -> None:
    a, gone = act("p/a"), act("p/0-gone")
    assert kinds([a], state(**{"p__0-gone": published(gone)})) == [("create", "p/a"), ("orphan", "p/0-gone")]


def test_unknown_outcome_is_never_planned_as_create() -> None:
    a = act("p/a")
    record = Record(type=a.type, identity="acme", digest=a.digest, status="unknown")
    assert kinds([a], state(p__a=record)) == [("unknown", "p/a")]


def test_unknown_blocks_its_dependents() -> None:
    pic = act("p/pic", "twitter.picture", url="https://x.example/a.png")
    tweet = act("p/tweet", message="hi", attachments=[{"ref": "p/pic"}])
    record = Record(type=pic.type, identity="acme", digest=pic.digest, status="unknown")
    result = plan(graph.build([pic, tweet]), state(p__pic=record), NOW)
    assert [(c.kind, c.address) for c in result.changes] == [("unknown", "p/pic"), ("wait", "p/tweet")]
    assert "p/pic (unknown)" in (result.changes[1].reason or "")


def test_future_publish_at_waits_and_past_creates() -> None:
    later = act("p/later", publish_at=NOW + timedelta(hours=1))
    due = act("p/due", publish_at=NOW - timedelta(seconds=1))
    assert kinds([later, due]) == [("create", "p/due"), ("wait", "p/later")]


def test_dependent_of_waiting_action_waits_too() -> None:
    pic = act("p/pic", "twitter.picture", publish_at=NOW + timedelta(days=1), url="https://x.example/a.png")
    tweet = act("p/tweet", message="hi", attachments=[{"ref": "p/pic"}])
    assert kinds([pic, tweet]) == [("wait", "p/pic"), ("wait", "p/tweet")]


def test_references_come_before_their_users_whatever_the_names() -> None:
    pic = act("z/pic", "twitter.picture", url="https://x.example/a.png")
    tweet = act("a/tweet", message="hi", attachments=[{"ref": "z/pic"}])
    other = act("m/other")
    assert [a for _, a in kinds([tweet, other, pic])] == ["m/other", "z/pic", "a/tweet"]


def test_order_is_deterministic_whatever_the_input_order() -> None:
    actions = [act(f"p/{n}") for n in "dbca"]
    first = kinds(actions)
    assert first == kinds(list(reversed(actions))) == [("create", f"p/{n}") for n in "abcd"]


def test_create_depending_on_published_action_is_ready() -> None:
    pic = act("p/pic", "twitter.picture", url="https://x.example/a.png")
    tweet = act("p/tweet", message="hi", attachments=[{"ref": "p/pic"}])
    result = plan(graph.build([pic, tweet]), state(p__pic=published(pic, picture_id="9")), NOW)
    assert [(c.kind, c.depends_on) for c in result.changes] == [("noop", ()), ("create", ("p/pic",))]


def test_cycle_is_an_error_naming_its_path() -> None:
    a = act("p/a", message="a", attachments=[{"ref": "p/b"}])
    b = act("p/b", message="b", attachments=[{"ref": "p/a"}])
    with pytest.raises(UserError) as err:
        graph.build([a, b])
    assert "reference cycle: p/a -> p/b -> p/a" in str(err.value)


def test_plan_is_pure_same_inputs_same_plan() -> None:
    actions = [act("p/a"), act("p/b")]
    st = state(p__b=published(actions[1]))
    assert plan(graph.build(actions), st, NOW) == plan(graph.build(actions), st, NOW)
    assert st.resources.keys() == {"p/b"}  # the state was not touched


def test_a_twitter_picture_goes_up_with_its_scheduled_tweet_not_before() -> None:
    pic = act("p/pic", "twitter.picture", url="https://x.example/a.png")
    tweet = act("p/tweet", publish_at=NOW + timedelta(days=30), message="later", attachments=[{"ref": "p/pic"}])
    result = plan(graph.build([pic, tweet]), state(), NOW)
    assert [c.kind for c in result.changes] == ["wait", "wait"]
    assert "uploaded with its first post" in (result.changes[0].reason or "")
    due = plan(graph.build([pic, tweet]), state(), NOW + timedelta(days=30))
    assert [c.kind for c in due.changes] == ["create", "create"]


def test_an_expired_twitter_picture_is_uploaded_again_for_a_new_tweet() -> None:
    pic = act("p/pic", "twitter.picture", url="https://x.example/a.png")
    old = Record(type=pic.type, identity="acme", digest=pic.digest, status="published",
                 result={"picture_id": "1"}, published_at=NOW - timedelta(days=3))
    tweet = act("p/tweet", message="reuse", attachments=[{"ref": "p/pic"}])
    result = plan(graph.build([pic, tweet]), state(p__pic=old), NOW)
    assert [(c.kind, c.replace) for c in result.changes] == [("create", True), ("create", False)]
    # With no new tweet to attach it to, an old upload is simply left alone.
    assert kinds([pic], state(p__pic=old)) == [("noop", "p/pic")]


def test_an_action_moved_while_its_outcome_is_unknown_is_never_created() -> None:
    a = act("new/a")
    record = Record(type=a.type, identity="acme", digest=a.digest, status="unknown")
    result = plan(graph.build([a]), state(old__a=record), NOW)
    assert [(c.kind, c.address) for c in result.changes] == [("unknown", "new/a")]


def test_a_moved_twitter_picture_that_expired_is_uploaded_again_for_a_new_tweet() -> None:
    pic = act("new/pic", "twitter.picture", url="https://x.example/a.png")
    tweet = act("new/tweet", message="fresh", attachments=[{"ref": "new/pic"}])
    old = Record(type=pic.type, identity="acme", digest=pic.digest, status="published",
                 result={"picture_id": "1"}, published_at=NOW - timedelta(days=3))
    result = plan(graph.build([pic, tweet]), state(old__pic=old), NOW)
    assert [(c.kind, c.address, c.replace) for c in result.changes] == [
        ("create", "new/pic", True), ("create", "new/tweet", False)]
