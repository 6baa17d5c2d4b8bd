"""OneAll's clock (reference §1): learned from every answer, the envelope's date first."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.catalog import BY_TYPE
from pipeline.errors import ApiError
from tests.helpers import TOKENS
from tests.unit.oneall.loopback import Loopback, Reply, envelope

TOKEN = TOKENS["acme-twitter"][1]
PULL = f"/pull/identities/{TOKEN}/twitter/tweets.json"
LISTED = {"tweets": {"count": 0}}


def now() -> datetime:
    return datetime.now(timezone.utc)


def close_to(offset: timedelta | None, expected: timedelta) -> bool:
    # RFC 2822 dates count whole seconds
    return offset is not None and abs(offset - expected) < timedelta(seconds=2)


def test_the_clock_is_unknown_before_any_answer() -> None:
    with Loopback() as stub:
        client = stub.client()
        assert client.clock_offset is None and client.oneall_now() is None


def test_the_clock_is_learned_from_the_http_date_header() -> None:
    ahead = timedelta(hours=3)
    with Loopback(Reply(200, envelope(200, LISTED), date=now() + ahead)) as stub:
        client = stub.client()
        client.pull(PULL)
    assert close_to(client.clock_offset, ahead)
    oneall_now = client.oneall_now()
    assert oneall_now is not None and oneall_now.tzinfo is not None
    assert abs(oneall_now - (now() + ahead)) < timedelta(seconds=2)


def test_the_envelope_date_is_believed_before_the_date_header() -> None:
    behind = -timedelta(minutes=7)
    answer = Reply(200, envelope(200, LISTED, date=(now() + behind).astimezone(timezone(timedelta(hours=2)))),
                   date=now() + timedelta(hours=5))
    with Loopback(answer) as stub:
        client = stub.client()
        client.pull(PULL)
    assert close_to(client.clock_offset, behind)


def test_an_error_answer_teaches_the_clock_too() -> None:
    with Loopback(Reply(404, envelope(404, date=now() + timedelta(minutes=2)))) as stub:
        client = stub.client()
        with pytest.raises(ApiError):
            client.push(BY_TYPE["twitter.post"], TOKEN, {"message": "x"})
    assert close_to(client.clock_offset, timedelta(minutes=2))


def test_the_latest_answer_wins_and_an_unreadable_date_changes_nothing() -> None:
    first = Reply(200, envelope(200, LISTED), date=now() + timedelta(minutes=1))
    second = Reply(200, envelope(200, LISTED), date=now() + timedelta(minutes=4))
    garbled = Reply(200, envelope(200, LISTED).replace(b'"resource"', b'"date": "yesterday", "resource"'),
                    headers={"X-Note": "no usable date"}, date=None)
    with Loopback(first, second) as stub:
        client = stub.client()
        client.pull(PULL)
        client.pull(PULL)
    assert close_to(client.clock_offset, timedelta(minutes=4))
    with Loopback(garbled) as stub:
        other = stub.client()
        other.pull(PULL)
    # the server's own Date header (the real time) is used when the envelope's is unreadable
    assert close_to(other.clock_offset, timedelta(0))


def test_the_clock_can_be_read_while_other_threads_learn_it() -> None:
    with Loopback(Reply(200, envelope(200, LISTED), date=now() + timedelta(hours=1))) as stub:
        client = stub.client(pool_size=4)
        readings: list[timedelta | None] = []
        workers = [threading.Thread(target=lambda: [client.pull(PULL) for _ in range(5)]) for _ in range(4)]
        for w in workers:
            w.start()
        while any(w.is_alive() for w in workers):
            readings.append(client.clock_offset)
        for w in workers:
            w.join()
    assert all(r is None or close_to(r, timedelta(hours=1)) for r in readings)
    assert close_to(client.clock_offset, timedelta(hours=1))
