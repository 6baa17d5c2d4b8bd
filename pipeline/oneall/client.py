"""The OneAll HTTP client: Basic auth, timeouts, safe retries, envelope -> result or typed error.

It speaks through one urllib3 connection pool to one site. (requests, which it used
before, spent more CPU preparing each request than the rest of an apply spends on it:
at 32 requests in flight that is what keeps an apply from its latency bound.)

POST publishes, PUT edits, DELETE deletes: for these the client only believes what an
answer proves (docs/oneall-api.md §5). ``ApiError`` means OneAll surely did not act:
its own envelope with ``flag: error`` and a 4xx, 502 or 503 code, or a 429. A
connection that failed before the request left is a ``TransportError``. Anything else
(a 500, a gateway's own page of any status, a redirect, a success cut short or too
large, a timeout or a reset after sending) may follow a request that was carried out:
``OutcomeUnknownError``, never a resend. GET only reads, so a GET that found no
usable answer is retried and then raises ``TransportError`` (no complete answer) or
``ApiError`` (an answer that is not a readable success).

Redirects are followed for no method: OneAll's API does not redirect, so a redirect
is a misconfigured base URL or someone else's server, and the keys stay with us.

Every answer also tells OneAll's time (§1), which the client keeps for callers that
compare OneAll's dates: ``clock_offset`` and ``oneall_now()``.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping
from urllib.parse import urlencode

import urllib3
from urllib3.util import Timeout, make_headers, parse_url

from pipeline import __version__
from pipeline.catalog import MAX_ANSWER_BYTES, Endpoint
from pipeline.errors import AnswerNotDone, AnswerUnread, ApiError, OutcomeUnknownError, TransportError
from pipeline.oneall.answers import (VERBS, Envelope, judge, read_capped, retry_after_seconds,
                                     rfc2822, short, surely_unsent)
from pipeline.redact import redact, register

_UNSEEN = object()


@dataclass(frozen=True)
class Credentials:
    """A site's key pair; the private key never shows in a repr or a message."""

    public_key: str
    private_key: str = field(repr=False)

    def __post_init__(self) -> None:
        register(self.private_key)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_total: float = 60.0  # never spend longer than this on one request's retries


class OneAllClient:
    """One connection pool to one OneAll site (or the sandbox); safe across threads.

    ``pool_size`` is how many connections are kept open: set it to at least the number
    of threads that call the client at once, or the extra connections are reopened
    for every request.
    """

    def __init__(self, base_url: str, credentials: Credentials, *, timeout: float = 30.0,
                 retry: RetryPolicy | None = None, pool_size: int = 16,
                 max_answer_bytes: int = MAX_ANSWER_BYTES) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.max_answer_bytes = max_answer_bytes
        url = parse_url(self.base_url)  # the path comes back percent-encoded where it must be
        self._prefix = (url.path or "").rstrip("/")
        # No proxy, no netrc, no cookies: these keys go to the site named, and nowhere
        # else. TLS is verified against certifi's bundle, as requests did.
        tls: dict[str, Any] = {}
        if url.scheme == "https":
            import certifi

            tls = {"cert_reqs": "CERT_REQUIRED", "ca_certs": certifi.where()}
        self._pool = urllib3.connection_from_url(
            self.base_url, maxsize=max(1, pool_size), block=False, retries=False, **tls)
        self._timeout = Timeout(connect=min(10.0, timeout), read=timeout)
        self._headers = {
            "User-Agent": f"pipeline/{__version__}", "Accept": "*/*", "Connection": "keep-alive",
            **make_headers(accept_encoding=True,
                           basic_auth=f"{credentials.public_key}:{credentials.private_key}")}
        self._clock_lock = threading.Lock()
        self._clock_offset: timedelta | None = None
        #: Date strings read lately and what they say: answers within one second carry
        #: the same ones (the header's and the envelope's), and parsing them is a good
        #: part of reading an answer.
        self._dates: dict[str, datetime | None] = {}

    def close(self) -> None:
        self._pool.close()

    # ------------------------------------------------------------------ verbs
    def push(self, endpoint: Endpoint, token: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Publish through ``endpoint`` (POST); returns ``result.data``.

        Raises:
            ApiError: OneAll surely did not publish it.
            TransportError: the request never left.
            OutcomeUnknownError: it may have been published.
        """
        resource = endpoint.push_path(token, values)
        data = self._call("POST", resource, json_body=endpoint.wire_body(values))
        if data is None:
            raise OutcomeUnknownError(
                f"OneAll answered success for {resource} without result data, "
                "which does not say what it published")
        return data

    def edit(self, endpoint: Endpoint, token: str, values: Mapping[str, Any],
             result: Mapping[str, str]) -> dict[str, Any]:
        """Edit in place what ``endpoint`` published (PUT through the Update API).

        ``result`` holds the ids the Push result returned. Returns ``result.data``, or
        ``{}`` when the success answer has none. Raises as ``push`` does.
        """
        resource = endpoint.update_path(token, values, result)
        return self._call("PUT", resource, json_body=endpoint.edit_body(values)) or {}

    def delete(self, endpoint: Endpoint, token: str, values: Mapping[str, Any],
               result: Mapping[str, str]) -> None:
        """Delete what ``endpoint`` published (DELETE through the Update API, no body).

        Raises as ``push`` does; a 404 is ``ApiError(404, …)``, which for a post that
        the state records means it is already gone: the caller decides.
        """
        self._call("DELETE", endpoint.update_path(token, values, result))

    def pull(self, resource: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Read through the Pull API (GET); ``resource`` starts with ``/pull/``.

        Raises:
            ApiError: an answer that is not a readable success.
            TransportError: no complete answer, after the retries.
        """
        data = self._call("GET", resource, params=params)
        if data is None:
            raise ApiError(200, "success answer without result data", resource)
        return data

    # ------------------------------------------------------------------ clock
    @property
    def clock_offset(self) -> timedelta | None:
        """OneAll's time minus the local time, from the latest answer (None before one)."""
        with self._clock_lock:
            return self._clock_offset

    def oneall_now(self) -> datetime | None:
        """The time now on OneAll's clock (aware, UTC), or None before any answer."""
        offset = self.clock_offset
        return None if offset is None else datetime.now(timezone.utc) + offset

    def _learn_clock(self, said: str | None, received: float) -> None:
        if not said:
            return
        when = self._dates.get(said, _UNSEEN)
        if when is _UNSEEN:
            when = rfc2822(said)
            if len(self._dates) >= 16:
                self._dates.clear()  # the seconds gone by: the cache stays small
            self._dates[said] = when
        if isinstance(when, datetime):
            with self._clock_lock:
                self._clock_offset = when - datetime.fromtimestamp(received, timezone.utc)

    # ------------------------------------------------------------------ one request
    def _call(self, method: str, resource: str, *, json_body: Any = None,
              params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """``result.data`` of a success (None when it has none), after safe retries."""
        writing = method != "GET"
        started = time.monotonic()
        headers, body = self._headers, None
        if json_body is not None:
            body = json.dumps(json_body, allow_nan=False).encode("utf-8")
            headers = {**headers, "Content-Type": "application/json"}
        query = {k: v for k, v in (params or {}).items() if v is not None}
        target = self._prefix + resource + ("?" + urlencode(query, doseq=True) if query else "")
        for attempt in range(1, self.retry.attempts + 1):
            final = attempt == self.retry.attempts
            try:
                # Redirects are followed for no method, and urllib3 retries nothing: this
                # loop decides what may be sent again.
                response = self._pool.urlopen(method, target, body=body, headers=headers, retries=False,
                                              redirect=False, preload_content=False, timeout=self._timeout)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if writing and not surely_unsent(exc):
                    raise OutcomeUnknownError(
                        f"no answer from OneAll for {resource}: {redact(short(exc))}") from None
                if final or not self._wait(attempt, None, started):
                    raise TransportError(
                        f"cannot reach OneAll at {redact(self.base_url)}: {redact(short(exc))}") from None
                continue
            received = time.time()
            try:
                self._learn_clock(response.headers.get("Date"), received)
                body_read = read_capped(response, self.max_answer_bytes, self.timeout)
            except AnswerUnread as exc:
                if writing:
                    raise OutcomeUnknownError(
                        f"the answer to {method} {resource} broke off ({redact(str(exc))}), "
                        f"so it may have been {VERBS[method]}") from None
                if final or not self._wait(attempt, None, started):
                    raise TransportError(
                        f"no complete answer from OneAll for {resource}: {redact(str(exc))}") from None
                continue
            finally:
                # A body left unread (too large, cut short) closes its connection; a whole
                # one leaves it open for the next request.
                if not response.closed:
                    response.close()
                response.release_conn()
            envelope = Envelope.parse(body_read)
            if envelope is not None:
                self._learn_clock(envelope.date, received)  # OneAll's own word beats a header
            try:
                return judge(method, resource, response, body_read, envelope, self.max_answer_bytes)
            except AnswerNotDone as refused:
                if final or not self._wait(attempt, response.headers.get("Retry-After"), started):
                    raise refused.error from None
        raise AssertionError("unreachable")

    def _wait(self, attempt: int, retry_after: str | None, started: float) -> bool:
        """Sleep before the next attempt; False when that would pass the time budget."""
        delay = retry_after_seconds(retry_after)
        if delay is None:
            ceiling = min(self.retry.max_delay, self.retry.base_delay * 2 ** (attempt - 1))
            delay = random.uniform(ceiling / 2, ceiling)  # jitter spreads concurrent retries
        if time.monotonic() - started + delay > self.retry.max_total:
            return False
        time.sleep(delay)
        return True
