"""What an answer proves (reference §5): the real client against a scripted loopback stand-in."""

from __future__ import annotations

import threading
import time

import pytest

from pipeline.catalog import BY_TYPE, MAX_ANSWER_BYTES
from pipeline.errors import ApiError, OutcomeUnknownError, TransportError
from tests.helpers import PRIVATE_KEY, TOKENS
from tests.unit.oneall.loopback import GATEWAY_PAGE, FAST_RETRY, Loopback, Reply, envelope

TWEET = BY_TYPE["twitter.post"]
TOKEN = TOKENS["acme-twitter"][1]
PULL = f"/pull/identities/{TOKEN}/twitter/tweets.json"
POSTED = envelope(200, {"provider": "twitter", "object": "post", "post_id": "1"})


def post(stub: Loopback) -> dict[str, object]:
    return stub.client().push(TWEET, TOKEN, {"message": "hello"})


def test_a_429_is_retried_after_the_time_retry_after_asks_for() -> None:
    with Loopback(Reply(429, envelope(429), {"Retry-After": "1"}), Reply(200, POSTED)) as stub:
        started = time.monotonic()
        assert post(stub)["post_id"] == "1"
        assert time.monotonic() - started >= 1.0
        assert stub.methods() == ["POST", "POST"]


def test_a_429_from_a_rate_limiter_in_front_of_oneall_is_retried_too() -> None:
    with Loopback(Reply(429, b"<html>Slow down</html>"), Reply(200, POSTED)) as stub:
        assert post(stub)["post_id"] == "1"


def test_a_429_that_never_ends_is_a_failure_once_the_attempts_are_spent() -> None:
    with Loopback(Reply(429, envelope(429))) as stub:
        with pytest.raises(ApiError) as err:
            post(stub)
        assert err.value.code == 429
        assert len(stub.received) == FAST_RETRY.attempts


def test_a_retry_after_longer_than_the_time_budget_is_not_waited_for() -> None:
    with Loopback(Reply(429, envelope(429), {"Retry-After": "3600"})) as stub:
        started = time.monotonic()
        with pytest.raises(ApiError):
            post(stub)
        assert time.monotonic() - started < 2 and len(stub.received) == 1


@pytest.mark.parametrize("code", [502, 503])
def test_a_502_or_503_in_oneall_envelope_is_retried(code: int) -> None:
    with Loopback(Reply(code, envelope(code)), Reply(200, POSTED)) as stub:
        assert post(stub)["post_id"] == "1"
        assert stub.methods() == ["POST", "POST"]


@pytest.mark.parametrize("code", [502, 503])
def test_a_502_or_503_in_oneall_envelope_after_every_attempt_proves_nothing_was_published(
        code: int) -> None:
    with Loopback(Reply(code, envelope(code))) as stub:
        with pytest.raises(ApiError) as err:
            post(stub)
        assert err.value.code == code and len(stub.received) == FAST_RETRY.attempts


@pytest.mark.parametrize(("status", "body"), [
    (502, GATEWAY_PAGE),
    (503, b"<html>Service Unavailable</html>"),
    (504, b"<html>Gateway Timeout</html>"),
    (502, b'{"message": "Bad gateway"}'),  # JSON, but not OneAll's envelope
    (413, b"<html>Request Entity Too Large</html>"),
    (500, envelope(500)),
    (200, envelope(200, flag="error")),  # an error flag with a success code proves nothing
])
def test_an_answer_that_is_not_oneall_refusing_leaves_a_post_unknown_and_is_not_retried(
        status: int, body: bytes) -> None:
    with Loopback(Reply(status, body), Reply(200, POSTED)) as stub:
        with pytest.raises(OutcomeUnknownError):
            post(stub)
        assert stub.methods() == ["POST"]


@pytest.mark.parametrize("code", [400, 401, 403, 404, 409])
def test_oneall_refusing_in_its_envelope_proves_nothing_was_published(code: int) -> None:
    with Loopback(Reply(code, envelope(code, info=f"refused {code}"))) as stub:
        with pytest.raises(ApiError) as err:
            post(stub)
        assert (err.value.code, err.value.info) == (code, f"refused {code}")
        assert len(stub.received) == 1


def test_a_gateway_page_answering_a_get_is_an_api_error_and_not_retried() -> None:
    with Loopback(Reply(502, GATEWAY_PAGE)) as stub:
        with pytest.raises(ApiError) as err:
            stub.client().pull(PULL)
        assert err.value.code == 502 and "Bad Gateway" in err.value.info
        assert len(stub.received) == 1


def test_a_502_in_oneall_envelope_answering_a_get_is_retried() -> None:
    with Loopback(Reply(502, envelope(502)), Reply(200, envelope(200, {"tweets": {"count": 0}}))) as stub:
        assert stub.client().pull(PULL) == {"tweets": {"count": 0}}


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_answering_a_post_is_unknown_and_not_followed(status: int) -> None:
    with Loopback(Reply(status, b"", {"Location": "/elsewhere.json"}), Reply(200, POSTED)) as stub:
        with pytest.raises(OutcomeUnknownError, match="redirected to /elsewhere.json"):
            post(stub)
        assert [r.path for r in stub.received] == [f"/push/identities/{TOKEN}/twitter/post.json"]


def test_a_redirect_answering_a_get_is_not_followed_either() -> None:
    with Loopback(Reply(302, b"", {"Location": "https://elsewhere.example/x.json"}),
                  Reply(200, envelope(200, {"tweets": {"count": 0}}))) as stub:
        with pytest.raises(ApiError) as err:
            stub.client().pull(PULL)
        assert err.value.code == 302 and "elsewhere.example" in err.value.info
        assert len(stub.received) == 1


def test_an_answer_announcing_more_than_the_cap_is_refused_unread() -> None:
    too_big = Reply(200, POSTED, length=MAX_ANSWER_BYTES + 1)  # announces more than it sends
    with Loopback(too_big) as stub:
        started = time.monotonic()
        with pytest.raises(OutcomeUnknownError, match="larger than"):
            post(stub)
        with pytest.raises(ApiError, match="larger than"):
            stub.client().pull(PULL)
        assert time.monotonic() - started < 5  # it did not wait for the bytes announced


def test_an_answer_streaming_past_the_cap_is_refused_once_it_passes_it() -> None:
    with Loopback(Reply(200, b"", stream=MAX_ANSWER_BYTES + 10 * 65536)) as stub:
        with pytest.raises(OutcomeUnknownError, match="larger than"):
            post(stub)


def test_a_compressed_answer_is_capped_on_what_it_unfolds_to() -> None:
    bomb = b'{"response": "' + b" " * (MAX_ANSWER_BYTES + 1) + b'"}'
    with Loopback(Reply(200, bomb, gzip=True)) as stub:
        with pytest.raises(ApiError, match="larger than"):
            stub.client().pull(PULL)


def test_a_success_cut_short_after_a_post_is_unknown() -> None:
    with Loopback(Reply(200, POSTED[:40], length=len(POSTED))) as stub:
        with pytest.raises(OutcomeUnknownError):
            post(stub)
        assert stub.methods() == ["POST"]


def test_a_get_whose_answer_broke_off_is_read_again() -> None:
    listing = envelope(200, {"tweets": {"count": 0}})
    with Loopback(Reply(200, listing[:20], length=len(listing)), Reply(200, listing)) as stub:
        assert stub.client().pull(PULL) == {"tweets": {"count": 0}}
        assert stub.methods() == ["GET", "GET"]


def test_a_get_that_never_gets_a_whole_answer_is_a_transport_error() -> None:
    listing = envelope(200, {"tweets": {"count": 0}})
    with Loopback(Reply(200, listing[:20], length=len(listing))) as stub:
        with pytest.raises(TransportError):
            stub.client().pull(PULL)
        assert len(stub.received) == FAST_RETRY.attempts


def test_a_timeout_after_sending_leaves_a_post_unknown_but_a_get_is_a_transport_error() -> None:
    with Loopback(Reply(200, POSTED, hang=1.0)) as stub:
        with pytest.raises(OutcomeUnknownError):
            stub.client(timeout=0.2).push(TWEET, TOKEN, {"message": "x"})
        with pytest.raises(TransportError):
            stub.client(timeout=0.2).pull(PULL)


def test_an_answer_trickling_in_for_longer_than_the_timeout_leaves_a_post_unknown() -> None:
    with Loopback(Reply(200, POSTED, trickle=0.05)) as stub:  # each byte within the read timeout
        started = time.monotonic()
        with pytest.raises(OutcomeUnknownError, match="took longer"):
            stub.client(timeout=0.5).push(TWEET, TOKEN, {"message": "x"})
        assert time.monotonic() - started < 2


def test_the_private_key_in_a_gateway_page_is_redacted() -> None:
    page = b"<html>upstream said: bad key " + PRIVATE_KEY.encode() + b"</html>"
    with Loopback(Reply(502, page)) as stub:
        with pytest.raises(OutcomeUnknownError) as unknown:
            post(stub)
        with pytest.raises(ApiError) as error:
            stub.client().pull(PULL)
    assert PRIVATE_KEY not in str(unknown.value) and PRIVATE_KEY not in str(error.value)
    assert "***" in str(unknown.value)


def test_the_pool_keeps_one_connection_per_thread_when_sized_for_them() -> None:
    listing = envelope(200, {"tweets": {"count": 0}})
    with Loopback(Reply(200, listing)) as stub:
        client = stub.client(pool_size=8)
        threads = [threading.Thread(target=lambda: [client.pull(PULL) for _ in range(10)])
                   for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(stub.received) == 80
        assert len(stub.peers) <= 8
