"""The OneAll HTTP client: Basic auth, timeouts, safe retries, envelope -> result or typed error.

A POST publishes, so the client is careful about what it retries: only answers that
say OneAll did not act (429, 502, 503) and connection failures that happened before
the request left. A timeout or reset after sending raises ``OutcomeUnknownError``:
resending could post twice, so the caller records the outcome as unknown instead.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Mapping

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from pipeline import __version__
from pipeline.catalog import Endpoint
from pipeline.errors import ApiError, OutcomeUnknownError, TransportError
from pipeline.redact import redact, register

#: Answers that mean "not processed, try later" [contract, oneall-push-api.md §2].
RETRY_CODES = frozenset({429, 502, 503})


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
    """One ``requests.Session`` to one OneAll site (or the sandbox)."""

    def __init__(self, base_url: str, credentials: Credentials, *, timeout: float = 30.0,
                 retry: RetryPolicy | None = None, pool_size: int = 16) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.session = requests.Session()
        self.session.auth = (credentials.public_key, credentials.private_key)
        self.session.headers["User-Agent"] = f"pipeline/{__version__}"
        # The proxies of the environment are not ours to use with these keys unless
        # asked for; requests would otherwise read netrc and proxy variables.
        self.session.trust_env = False
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def push(self, endpoint: Endpoint, token: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Publish through ``endpoint``; returns ``result.data``."""
        resource = endpoint.push_path(token, values)
        return self._call("POST", resource, json_body=endpoint.wire_body(values))

    def pull(self, resource: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Read through the Pull API; ``resource`` starts with ``/pull/``."""
        return self._call("GET", resource, params=params)

    def _call(self, method: str, resource: str, *, json_body: Any = None,
              params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        started = time.monotonic()
        for attempt in range(1, self.retry.attempts + 1):
            try:
                response = self.session.request(
                    method, self.base_url + resource, json=json_body, params=params,
                    timeout=(min(10.0, self.timeout), self.timeout))
            except requests.exceptions.RequestException as exc:
                if not _surely_unsent(exc):
                    raise OutcomeUnknownError(
                        f"no answer from OneAll for {resource}: {redact(_short(exc))}") from None
                if attempt == self.retry.attempts or not self._wait(attempt, None, started):
                    raise TransportError(
                        f"cannot reach OneAll at {redact(self.base_url)}: {redact(_short(exc))}") from None
                continue
            if response.status_code in RETRY_CODES and attempt < self.retry.attempts:
                if self._wait(attempt, response.headers.get("Retry-After"), started):
                    continue
            return _envelope(response, resource, publishing=method == "POST")
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


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _envelope(response: requests.Response, resource: str, *, publishing: bool) -> dict[str, Any]:
    """``result.data`` of a success envelope, or an error.

    When publishing, only two answers prove that nothing was published: a readable
    OneAll error for a 4xx, and the "not processed" codes (429, 502, 503). Anything else
    that is not a readable success (a 500, a gateway's page, a success cut short) may
    have come after the post was made: ``OutcomeUnknownError``.
    """
    code = response.status_code
    try:
        body = response.json()
        status = body["response"]["request"]["status"]
        flag, info = status.get("flag"), str(status.get("info") or response.reason)
        code = int(status.get("code") or code)
    except (ValueError, KeyError, TypeError, AttributeError):
        body, flag, info = None, None, (response.text[:200].strip() or response.reason)
    said = code if flag == "error" else response.status_code  # a readable envelope's own code
    surely_refused = any(c in RETRY_CODES or 400 <= c < 500 for c in (said, response.status_code))
    if flag == "success" and response.ok:
        data = (body["response"].get("result") or {}).get("data")
        if isinstance(data, dict):
            return data
        info = "success answer without result data"
    elif publishing and surely_refused:
        raise ApiError(code, redact(info), resource)
    if publishing:
        raise OutcomeUnknownError(
            f"OneAll answered {response.status_code} for {resource}, which does not say whether "
            f"it published: {redact(info)}")
    raise ApiError(code, redact(info), resource)
