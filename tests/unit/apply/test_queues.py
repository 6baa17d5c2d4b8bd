"""The ready queues: the smallest ready key of an identity under its bound, at a cost that
does not grow with the backlog."""

from __future__ import annotations

from pipeline.apply.queues import ReadyQueues


def test_the_smallest_ready_key_goes_first_among_identities_under_their_bound() -> None:
    queues = ReadyQueues({"a": 1}, default=2)
    for identity, key in (("a", "a/2"), ("a", "a/1"), ("b", "b/1"), ("b", "b/2"), ("b", "b/3")):
        queues.add(identity, key)
    assert [queues.take() for _ in range(4)] == ["a/1", "b/1", "b/2", None]  # a at 1, b at 2
    queues.done("b")
    assert queues.take() == "b/3"
    queues.done("a")
    assert queues.take() == "a/2"
    assert queues.take() is None and not queues


def test_a_backlog_on_one_account_at_its_bound_is_never_rescanned() -> None:
    """Twenty thousand changes for one account, four in flight: each request taken or
    finished touches a handful of entries, not the backlog (it was quadratic once)."""
    queues = ReadyQueues({"acme": 4}, default=32)
    for n in range(20_000):
        queues.add("acme", f"p/{n:05d}")
    taken: list[str] = []
    in_flight: list[str] = []
    while queues or in_flight:
        while (key := queues.take()) is not None:
            in_flight.append(key)
        assert len(in_flight) <= 4
        taken.append(in_flight.pop(0))
        queues.done("acme")
        assert len(queues.open) <= 2  # the identities that may send, not their backlogs
    assert taken == sorted(taken) and len(taken) == 20_000
