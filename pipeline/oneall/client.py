"""The OneAll HTTP client: Basic auth, timeouts, safe retries, envelope -> result or typed error.

POST publishes, PUT edits, DELETE deletes: for these the client only believes what an
answer proves (oneall-push-api.md §5). ``ApiError`` means OneAll surely did not act:
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
from email.utils import parsedate_to_datetime
from typing import Any, Mapping

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from pipeline import __version__
from pipeline.catalog import MAX_ANSWER_BYTES, Endpoint
from pipeline.errors import AnswerNotDone, AnswerUnread, ApiError, OutcomeUnknownError, TransportError
from pipeline.redact import redact, register

#: Answers that say "not processed, try later" [contract, §5]; 502 and 503 only in
#: OneAll's own envelope, 429 from whoever sends it (a rate limiter forwards nothing).
RETRY_CODES = frozenset({429, 502, 503})

_CHUNK = 64 * 1024
_VERBS = {"POST": "published", "PUT": "edited", "DELETE": "deleted"}


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
    """One ``requests.Session`` to one OneAll site (or the sandbox); safe across threads.

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
        self.session = requests.Session()
        self.session.auth = (credentials.public_key, credentials.private_key)
        self.session.headers["User-Agent"] = f"pipeline/{__version__}"
        # The proxies of the environment are not ours to use with these keys unless
        # asked for; requests would otherwise read netrc and proxy variables.
        self.session.trust_env = False
        pool_size = max(1, pool_size)
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._clock_lock = threading.Lock()
        self._clock_offset: timedelta | None = None

    def close(self) -> None:
        self.session.close()

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
        when = _rfc2822(said)
        if when is not None:
            with self._clock_lock:
                self._clock_offset = when - datetime.fromtimestamp(received, timezone.utc)

    # ------------------------------------------------------------------ one request
    def _call(self, method: str, resource: str, *, json_body: Any = None,
              params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """``result.data`` of a success (None when it has none), after safe retries."""
        writing = method != "GET"
        started = time.monotonic()
        for attempt in range(1, self.retry.attempts + 1):
            final = attempt == self.retry.attempts
            try:
                response = self.session.request(
                    method, self.base_url + resource, json=json_body, params=params,
                    timeout=(min(10.0, self.timeout), self.timeout),
                    stream=True, allow_redirects=False)
            except requests.exceptions.RequestException as exc:
                if writing and not _surely_unsent(exc):
                    raise OutcomeUnknownError(
                        f"no answer from OneAll for {resource}: {redact(_short(exc))}") from None
                if final or not self._wait(attempt, None, started):
                    raise TransportError(
                        f"cannot reach OneAll at {redact(self.base_url)}: {redact(_short(exc))}") from None
                continue
            received = time.time()
            with response:
                self._learn_clock(response.headers.get("Date"), received)
                try:
                    body = _read_capped(response, self.max_answer_bytes, self.timeout)
                except AnswerUnread as exc:
                    if writing:
                        raise OutcomeUnknownError(
                            f"the answer to {method} {resource} broke off ({redact(str(exc))}), "
                            f"so it may have been {_VERBS[method]}") from None
                    if final or not self._wait(attempt, None, started):
                        raise TransportError(
                            f"no complete answer from OneAll for {resource}: {redact(str(exc))}") from None
                    continue
            envelope = _Envelope.parse(body)
            if envelope is not None:
                self._learn_clock(envelope.date, received)  # OneAll's own word beats a header
            try:
                return _judge(method, resource, response, body, envelope, self.max_answer_bytes)
            except AnswerNotDone as refused:
                if final or not self._wait(attempt, response.headers.get("Retry-After"), started):
                    raise refused.error from None
        raise AssertionError("unreachable")

    def _wait(self, attempt: int, retry_after: str | None, started: float) -> bool:
        """Sleep before the next attempt; False when that would pass the time budget."""
        delay = _retry_after_seconds(retry_after)
        if delay is None:
            ceiling = min(self.retry.max_delay, self.retry.base_delay * 2 ** (attempt - 1))
            delay = random.uniform(ceiling / 2, ceiling)  # jitter spreads concurrent retries
        if time.monotonic() - started + delay > self.retry.max_total:
            return False
        time.sleep(delay)
        return True


# ---------------------------------------------------------------------- reading
def _read_capped(response: requests.Response, cap: int, budget: float) -> bytes | None:
    """The whole body, or None when it is larger than ``cap`` (then left unread).

    The cap applies to the decoded bytes, so a compressed answer cannot unfold past it;
    the whole body must arrive within ``budget`` seconds, so a trickle cannot hold a
    thread forever.
    """
    try:
        if int(response.headers.get("Content-Length") or 0) > cap:
            return None
    except ValueError:
        pass  # a meaningless length: the bytes themselves are counted below
    deadline = time.monotonic() + budget
    # read1 returns what one read from the socket gives, so the deadline is checked
    # between reads however slowly the bytes come (urllib3 < 2.3 has only read).
    read = getattr(response.raw, "read1", None) or response.raw.read
    buffer = bytearray()
    try:
        while True:
            chunk = read(_CHUNK, decode_content=True)
            if not chunk:
                return bytes(buffer)
            buffer += chunk
            if len(buffer) > cap:
                return None
            if time.monotonic() > deadline:
                raise AnswerUnread(f"the answer took longer than {budget:g}s to arrive")
    except (urllib3.exceptions.HTTPError, OSError, requests.exceptions.RequestException) as exc:
        raise AnswerUnread(_short(exc)) from None


@dataclass(frozen=True)
class _Envelope:
    """What OneAll's envelope says (§2); None from ``parse`` when it is not one."""

    flag: str | None
    code: int | None
    info: str | None
    date: str | None
    data: Any

    @staticmethod
    def parse(body: bytes | None) -> _Envelope | None:
        if not body:
            return None
        try:
            document = json.loads(body)
            request = document["response"]["request"]
            status = request["status"]
            if not isinstance(status, dict):
                return None
            result = document["response"].get("result")
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None
        code = status.get("code")
        info = status.get("info")
        date = request.get("date")
        return _Envelope(
            flag=status.get("flag") if isinstance(status.get("flag"), str) else None,
            code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            info=str(info) if info is not None else None,
            date=date if isinstance(date, str) else None,
            data=result.get("data") if isinstance(result, dict) else None,
        )


def _judge(method: str, resource: str, response: requests.Response, body: bytes | None,
           envelope: _Envelope | None, cap: int) -> dict[str, Any] | None:
    """What one complete answer proves: ``result.data`` (or None), or an error.

    Raises:
        AnswerNotDone: OneAll surely did not act and may be asked again (429, 502, 503).
        ApiError: OneAll surely did not act (for GET: any answer that is no success).
        OutcomeUnknownError: a POST, PUT or DELETE may have been carried out.
    """
    status = response.status_code
    writing = method != "GET"
    if 300 <= status < 400:
        where = redact(str(response.headers.get("Location") or "nowhere"))[:200]
        info = f"redirected to {where}; redirects are not followed (check the API base URL)"
    elif body is None:
        info = f"answer larger than {cap} bytes, refused unread"
    elif envelope is not None and envelope.flag == "success" and 200 <= status < 300:
        return envelope.data if isinstance(envelope.data, dict) else None
    else:
        said = envelope.code if envelope is not None and envelope.code is not None else status
        info = (envelope.info if envelope is not None and envelope.info else None) \
            or _page_text(body) or response.reason or "no explanation"
        error = ApiError(said, redact(info)[:500], resource)
        oneall_refused = envelope is not None and envelope.flag == "error" and (
            400 <= said < 500 or said in RETRY_CODES)
        if oneall_refused or status == 429:
            if said in RETRY_CODES or status == 429:
                raise AnswerNotDone(error)
            raise error
        if not writing:
            raise error
    if writing:
        raise OutcomeUnknownError(
            f"OneAll answered {status} for {method} {resource}, which does not say whether it "
            f"was {_VERBS[method]}: {redact(info)[:300]}")
    raise ApiError(status, redact(info), resource)


def _page_text(body: bytes | None) -> str:
    return (body or b"")[:200].decode("utf-8", "replace").strip()


# ---------------------------------------------------------------------- small helpers
def _surely_unsent(exc: requests.exceptions.RequestException) -> bool:
    """True only when the request cannot have reached the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = exc.args[0] if exc.args else None
        inner = getattr(reason, "reason", reason)
        return isinstance(inner, (NewConnectionError, ConnectTimeoutError))
    return False


def _short(exc: Exception) -> str:
    inner = exc.args[0] if exc.args else exc
    reason = getattr(inner, "reason", inner)
    return str(reason)[:300]


def _rfc2822(value: str | None) -> datetime | None:
    """An RFC 2822 date as an aware datetime (a zone-less one is UTC), or None."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    when = _rfc2822(value)
    return None if when is None else max(0.0, when.timestamp() - time.time())

