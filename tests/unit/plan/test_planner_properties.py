"""Properties of the planner over generated manifests and states (hypothesis)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.plan import graph
from pipeline.errors import Location
from pipeline.model.action import DesiredAction, RefUse, request_digest
from pipeline.model.plan import Plan
from pipeline.model.state import Record, State
from pipeline.plan.planner import plan

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
TOKEN = "923843ec-1749-4cc1-988f-d6963f3b1baa"
LOC = Location("x.yaml", 1, 1)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[DesiredAction], State, frozenset[str]]:
    n_pics = draw(st.integers(0, 5))
    n_posts = draw(st.integers(0, 8))
    actions: list[DesiredAction] = []
    pics = [f"m{draw(st.integers(0, 2))}/pic{i}" for i in range(n_pics)]
    for address in pics:
        when = draw(st.sampled_from([None, NOW - timedelta(hours=1), NOW + timedelta(hours=1)]))
        request = {"url": f"https://x.example/{address}.png"}
        actions.append(DesiredAction(address, "twitter.picture", "acme", TOKEN, request, (), when, LOC,
                                     request_digest("twitter.picture", TOKEN, request)))
    for i in range(n_posts):
        address = f"m{draw(st.integers(0, 2))}/post{i}"
        uses = draw(st.lists(st.sampled_from(pics), max_size=4, unique=True)) if pics else []
        request = {"message": draw(st.sampled_from(["a", "b", "c"])) + address,
                   **({"attachments": [{"ref": u} for u in uses]} if uses else {})}
        when = draw(st.sampled_from([None, NOW + timedelta(days=1)]))
        actions.append(DesiredAction(address, "twitter.post", "acme", TOKEN, request,
                                     tuple(RefUse("attachments", u, LOC) for u in uses), when, LOC,
                                     request_digest("twitter.post", TOKEN, request)))
    resources: dict[str, Record] = {}
    for action in actions:
        fate = draw(st.sampled_from(["absent", "same", "different", "unknown"]))
        if fate != "absent":
            resources[action.address] = Record(
                type=action.type, identity="acme", status="unknown" if fate == "unknown" else "published",
                digest=action.digest if fate != "different" else "sha256:old", result={"post_id": "1", "picture_id": "2"},
                published_at=NOW - timedelta(hours=draw(st.sampled_from([1, 30]))))
    for i in range(draw(st.integers(0, 3))):  # gone from the manifests
        resources[f"gone/{i}"] = Record(type="twitter.post", identity="acme", digest="d", status="published")
    replace = frozenset(draw(st.lists(st.sampled_from([a.address for a in actions]), max_size=2))) if actions else frozenset()
    return actions, State(lineage="l", site="s", resources=resources), replace


def _applied(result: Plan, state: State) -> State:
    """The state after every ``create`` of ``result`` was published."""
    resources = dict(state.resources)
    for change in result.changes:
        if change.kind == "create":
            resources[change.address] = Record(type=change.type, identity=change.identity,
                                                digest=change.digest, status="published",
                                                result={"post_id": "9", "picture_id": "9"})
    return State(lineage=state.lineage, site=state.site, resources=resources)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_never_create_what_the_state_holds_unless_replaced(scenario: tuple) -> None:  # type: ignore[type-arg]
    actions, state, replace = scenario
    result = plan(graph.build(actions), state, NOW, replace)
    for change in result.changes:
        record = state.resources.get(change.address)
        if change.kind == "create" and record is not None:
            # Only on request, or an upload the network deleted (which publishes nothing).
            assert record.status == "published" and change.replace
            assert change.address in replace or change.type == "twitter.picture"
        if record is not None and record.status == "unknown":
            assert change.kind == "unknown"


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_apply_then_plan_again_has_nothing_to_do(scenario: tuple) -> None:  # type: ignore[type-arg]
    actions, state, replace = scenario
    g = graph.build(actions)
    first = plan(g, state, NOW, replace)
    # --replace is said once: what it published is not replaced again; what waited still waits.
    created = {c.address for c in first.changes if c.kind == "create"}
    second = plan(g, _applied(first, state), NOW, replace - created)
    assert not second.pending
    assert [c.address for c in second.changes if c.kind == "wait"] == \
        [c.address for c in first.changes if c.kind == "wait"]
    # Every change comes after the changes it depends on.
    seen: set[str] = set()
    for change in first.changes:
        assert set(change.depends_on) <= seen
        seen.add(change.address)
