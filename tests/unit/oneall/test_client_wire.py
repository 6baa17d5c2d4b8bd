"""What the client puts on the wire, and how it holds its connections (a scripted loopback server)."""

from __future__ import annotations

import base64
import threading

import pytest

from pipeline import __version__
from pipeline.catalog import BY_TYPE, MAX_ANSWER_BYTES
from pipeline.errors import OutcomeUnknownError
from pipeline.oneall.client import Credentials, OneAllClient
from tests.helpers import PRIVATE_KEY, PUBLIC_KEY
from tests.unit.oneall.loopback import FAST_RETRY, Loopback, Reply, envelope

TOKEN = "923843ec-1749-4cc1-988f-d6963f3b1baa"
POSTED = envelope(200, {"provider": "twitter", "object": "post", "post_id": "1"})


def test_a_push_sends_the_keys_the_json_body_and_says_who_it_is() -> None:
    with Loopback(Reply(200, POSTED)) as stub:
        stub.client().push(BY_TYPE["twitter.post"], TOKEN, {"message": "Zürich \"launch\""})
    (received,) = stub.received
    assert (received.method, received.path) == ("POST", f"/push/identities/{TOKEN}/twitter/post.json")
    headers = {k.lower(): v for k, v in received.headers.items()}
    assert headers["authorization"] == "Basic " + base64.b64encode(f"{PUBLIC_KEY}:{PRIVATE_KEY}".encode()).decode()
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == f"pipeline/{__version__}"
    assert "gzip" in headers["accept-encoding"]
    assert received.body == b'{"request": {"push": {"post": {"message": "Z\\u00fcrich \\"launch\\""}}}}'


def test_a_delete_has_no_body_and_a_get_its_query_without_empty_parameters() -> None:
    with Loopback(Reply(200, envelope(200)), Reply(200, envelope(200, {"tweets": {"count": 0}}))) as stub:
        stub.client().delete(BY_TYPE["twitter.post"], TOKEN, {}, {"post_id": "1"})
        stub.client().pull(f"/pull/identities/{TOKEN}/twitter/tweets.json",
                           {"page": 2, "entries_per_page": 50, "since": None, "q": "a b&c"})
    delete, get = stub.received
    assert (delete.method, delete.path, delete.body) == ("DELETE", f"/update/identities/{TOKEN}/twitter/post/1.json", b"")
    assert "content-type" not in {k.lower() for k in delete.headers}
    assert get.query == {"page": ["2"], "entries_per_page": ["50"], "q": ["a b&c"]}


def test_a_base_url_with_a_path_keeps_it_before_every_resource() -> None:
    with Loopback(Reply(200, POSTED)) as stub:
        OneAllClient(stub.url + "/oneall/", Credentials(PUBLIC_KEY, PRIVATE_KEY), retry=FAST_RETRY).push(
            BY_TYPE["twitter.post"], TOKEN, {"message": "Hi"})
    assert stub.received[0].path == f"/oneall/push/identities/{TOKEN}/twitter/post.json"


def test_connections_are_kept_open_and_reused() -> None:
    with Loopback(Reply(200, POSTED)) as stub:
        client = stub.client()
        for n in range(20):
            client.push(BY_TYPE["twitter.post"], TOKEN, {"message": f"Hi {n}"})
    assert len(stub.received) == 20 and len(stub.peers) == 1


def test_threads_up_to_the_pool_size_each_keep_a_connection() -> None:
    with Loopback(Reply(200, POSTED)) as stub:
        client = stub.client(pool_size=8)
        start = threading.Barrier(8)

        def send() -> None:
            start.wait()
            for n in range(10):
                client.push(BY_TYPE["twitter.post"], TOKEN, {"message": f"Hi {n}"})

        threads = [threading.Thread(target=send) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(stub.received) == 80 and len(stub.peers) <= 8


def test_an_answer_left_unread_closes_its_connection_and_the_next_request_gets_a_new_one() -> None:
    too_big = Reply(200, b"", stream=MAX_ANSWER_BYTES + 10 * 65536)
    with Loopback(too_big, Reply(200, POSTED)) as stub:
        client = stub.client()
        with pytest.raises(OutcomeUnknownError, match="larger than"):
            client.push(BY_TYPE["twitter.post"], TOKEN, {"message": "Big"})
        assert client.push(BY_TYPE["twitter.post"], TOKEN, {"message": "Small"})["post_id"] == "1"
    assert len(stub.peers) == 2
