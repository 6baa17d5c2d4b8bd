"""The real client against the sandbox over a loopback socket."""

from __future__ import annotations

import socket
import time

import pytest

from pipeline.catalog import BY_TYPE
from pipeline.errors import ApiError, OutcomeUnknownError, TransportError
from pipeline.oneall.client import Credentials, OneAllClient, RetryPolicy
from pipeline.oneall.pull import parse_page
from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import PRIVATE_KEY, PUBLIC_KEY, TOKENS

TWITTER = TOKENS["acme-twitter"][1]
FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, max_total=5)


def client(server: SandboxServer, private: str = PRIVATE_KEY, **kw: object) -> OneAllClient:
    return OneAllClient(server.url, Credentials(PUBLIC_KEY, private), retry=FAST_RETRY, **kw)  # type: ignore[arg-type]


def test_success_returns_result_data(sandbox: SandboxServer) -> None:
    data = client(sandbox).push(BY_TYPE["twitter.post"], TWITTER, {"message": "Hello"})
    assert data["provider"] == "twitter" and data["object"] == "post"
    assert data["post_id"].isdigit() and len(data["post_id"]) >= 18
    assert data["post_location"] == f"https://twitter.com/acme-twitter/status/{data['post_id']}"
    received = sandbox.sandbox.received[-1]
    assert received.path == f"/push/identities/{TWITTER}/twitter/post.json"
    assert received.body == {"request": {"push": {"post": {"message": "Hello"}}}}
    assert received.content_type == "application/json"


def test_400_carries_oneall_info(sandbox: SandboxServer) -> None:
    with pytest.raises(ApiError) as err:
        client(sandbox).push(BY_TYPE["twitter.post"], TWITTER, {"message": "x" * 141})
    assert err.value.code == 400
    assert "at most 140 characters" in err.value.info


def test_401_on_wrong_keys_and_the_key_is_not_in_the_error(sandbox: SandboxServer) -> None:
    with pytest.raises(ApiError) as err:
        client(sandbox, private="wrong-private-key").push(BY_TYPE["twitter.post"], TWITTER, {"message": "x"})
    assert err.value.code == 401
    assert "wrong-private-key" not in str(err.value) and PRIVATE_KEY not in str(err.value)
    assert sandbox.sandbox.published() == []


def test_404_on_unknown_identity(sandbox: SandboxServer) -> None:
    with pytest.raises(ApiError) as err:
        client(sandbox).push(BY_TYPE["twitter.post"], "00000000-0000-0000-0000-000000000000", {"message": "x"})
    assert (err.value.code, err.value.info) == (404, "Unknown identity_token 00000000-0000-0000-0000-000000000000")


def test_403_when_the_identity_is_of_another_network(sandbox: SandboxServer) -> None:
    with pytest.raises(ApiError) as err:
        client(sandbox).push(BY_TYPE["twitter.post"], TOKENS["acme-facebook"][1], {"message": "x"})
    assert err.value.code == 403


def test_409_on_a_duplicate_tweet(sandbox: SandboxServer) -> None:
    c = client(sandbox)
    c.push(BY_TYPE["twitter.post"], TWITTER, {"message": "same"})
    with pytest.raises(ApiError) as err:
        c.push(BY_TYPE["twitter.post"], TWITTER, {"message": "same"})
    assert err.value.code == 409


def test_429_is_retried_honouring_retry_after(sandbox: SandboxServer) -> None:
    sandbox.sandbox.faults.rate_429 = 1.0
    sandbox.sandbox.faults.retry_after = 0
    with pytest.raises(ApiError) as err:
        client(sandbox).push(BY_TYPE["twitter.post"], TWITTER, {"message": "x"})
    assert err.value.code == 429
    assert len(sandbox.sandbox.received) == FAST_RETRY.attempts
    assert sandbox.sandbox.published() == []


def test_503_then_success_publishes_once(sandbox: SandboxServer) -> None:
    sandbox.sandbox.faults.rate_503 = 0.5  # seeded: some attempts fail, one goes through
    data = client(sandbox).push(BY_TYPE["twitter.post"], TWITTER, {"message": "eventually"})
    assert len(sandbox.sandbox.published("twitter.post")) == 1
    assert data["post_id"]


def test_timeout_after_sending_is_unknown_not_retried(sandbox: SandboxServer) -> None:
    sandbox.sandbox.faults.ghost = 1.0
    sandbox.sandbox.faults.ghost_delay = 1.0
    started = time.monotonic()
    with pytest.raises(OutcomeUnknownError):
        client(sandbox, timeout=0.2).push(BY_TYPE["twitter.post"], TWITTER, {"message": "ghost"})
    assert time.monotonic() - started < 1.0
    assert len([r for r in sandbox.sandbox.received if r.method == "POST"]) == 1
    time.sleep(1.0)
    assert len(sandbox.sandbox.published("twitter.post")) == 1  # it did go out


def test_connection_refused_is_a_transport_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    c = OneAllClient(f"http://127.0.0.1:{port}", Credentials(PUBLIC_KEY, PRIVATE_KEY), retry=FAST_RETRY)
    with pytest.raises(TransportError):
        c.push(BY_TYPE["twitter.post"], TWITTER, {"message": "x"})


def test_pull_lists_tweets_newest_first(sandbox: SandboxServer) -> None:
    c = client(sandbox)
    for text in ("one", "two", "three"):
        c.push(BY_TYPE["twitter.post"], TWITTER, {"message": text})
    data = c.pull(f"/pull/identities/{TWITTER}/twitter/tweets.json",
                  {"entries_per_page": 2, "order_direction": "desc"})
    page = parse_page(data, BY_TYPE["twitter.post"])
    assert [e.text for e in page.entries] == ["three", "two"]
    assert data["tweets"]["pagination"]["total_entries"] == 3 and not page.last
    assert all(e.url and e.id and e.url.endswith(e.id) and e.date for e in page.entries)


def test_credentials_repr_hides_the_private_key() -> None:
    assert PRIVATE_KEY not in repr(Credentials(PUBLIC_KEY, PRIVATE_KEY))


class _Canned:
    """A loopback server answering every request with one canned response (a gateway's,
    or a broken one), to see how the client reads what OneAll never sends."""

    def __init__(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        import http.server
        import threading

        canned = (status, body, content_type)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the base class's name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(canned[0])
                self.send_header("Content-Type", canned[2])
                self.send_header("Content-Length", str(len(canned[1])))
                self.end_headers()
                self.wfile.write(canned[1])

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def push(self) -> dict:
        c = OneAllClient(self.url, Credentials(PUBLIC_KEY, PRIVATE_KEY), retry=FAST_RETRY)
        try:
            return c.push(BY_TYPE["twitter.post"], TWITTER, {"message": "x"})
        finally:
            self.server.shutdown()


def _error(code: int) -> bytes:
    return (b'{"response": {"request": {"status": {"flag": "error", "code": %d, "info": "nope"}}}}' % code)


@pytest.mark.parametrize(("status", "body", "content_type"), [
    (200, b'{"response": {"request": {"status": {"flag": "succ', "application/json"),  # cut short
    (200, b'{"response": {"request": {"status": {"flag": "success", "code": 200}}}}', "application/json"),
    (200, b'{"response": {"request": {"status": {"flag": "success", "code": "OK"}}}}', "application/json"),
    (500, _error(500), "application/json"),
    (524, b"<html>A timeout occurred</html>", "text/html"),
    (520, b"", "text/html"),
    # A proxy's own page, whatever its status, proves nothing about OneAll (§5).
    (413, b"<html>Request Entity Too Large</html>", "text/html"),
])
def test_answers_that_may_follow_a_publication_are_unknown(status: int, body: bytes, content_type: str) -> None:
    with pytest.raises(OutcomeUnknownError):
        _Canned(status, body, content_type).push()


@pytest.mark.parametrize(("status", "body"), [
    (400, _error(400)), (403, _error(403)), (409, _error(409)),
    (503, _error(503)),  # after the retries: overloaded, so not processed
])
def test_answers_that_prove_nothing_was_published_are_failures(status: int, body: bytes) -> None:
    with pytest.raises(ApiError) as err:
        _Canned(status, body).push()
    assert err.value.code == status
