"""What an answer from OneAll proves (docs/oneall-api.md §5), read without trusting it.

The body is read in chunks up to a cap and within a time budget; the envelope is
parsed; and ``judge`` decides, for the method that was sent, whether the answer is a
success, a refusal that proves nothing was done (``AnswerNotDone`` or ``ApiError``), or
an outcome that stays unknown (``OutcomeUnknownError``). The client around it only
sends, retries and keeps OneAll's clock.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import urllib3.exceptions
from urllib3 import BaseHTTPResponse
from urllib3.exceptions import ConnectTimeoutError

from pipeline.errors import AnswerNotDone, AnswerUnread, ApiError, OutcomeUnknownError
from pipeline.redact import redact

#: Answers that say "not processed, try later" [contract, §5]; 502 and 503 only in
#: OneAll's own envelope, 429 from whoever sends it (a rate limiter forwards nothing).
RETRY_CODES = frozenset({429, 502, 503})

_CHUNK = 64 * 1024
VERBS = {"POST": "published", "PUT": "edited", "DELETE": "deleted"}



# ---------------------------------------------------------------------- reading
def read_capped(response: BaseHTTPResponse, cap: int, budget: float) -> bytes | None:
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
    read = getattr(response, "read1", None) or response.read
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
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise AnswerUnread(short(exc)) from None


@dataclass(frozen=True)
class Envelope:
    """What OneAll's envelope says (§2); None from ``parse`` when it is not one."""

    flag: str | None
    code: int | None
    info: str | None
    date: str | None
    data: Any

    @staticmethod
    def parse(body: bytes | None) -> Envelope | None:
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
        return Envelope(
            flag=status.get("flag") if isinstance(status.get("flag"), str) else None,
            code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            info=str(info) if info is not None else None,
            date=date if isinstance(date, str) else None,
            data=result.get("data") if isinstance(result, dict) else None,
        )


def judge(method: str, resource: str, response: BaseHTTPResponse, body: bytes | None,
           envelope: Envelope | None, cap: int) -> dict[str, Any] | None:
    """What one complete answer proves: ``result.data`` (or None), or an error.

    Raises:
        AnswerNotDone: OneAll surely did not act and may be asked again (429, 502, 503).
        ApiError: OneAll surely did not act (for GET: any answer that is no success).
        OutcomeUnknownError: a POST, PUT or DELETE may have been carried out.
    """
    status = response.status
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
            or page_text(body) or response.reason or "no explanation"
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
            f"was {VERBS[method]}: {redact(info)[:300]}")
    raise ApiError(status, redact(info), resource)


def page_text(body: bytes | None) -> str:
    return (body or b"")[:200].decode("utf-8", "replace").strip()


# ---------------------------------------------------------------------- small helpers
def surely_unsent(exc: Exception) -> bool:
    """True only when the request cannot have reached the server: no connection was
    made (refused, timed out, a name that does not resolve), so nothing was sent."""
    return isinstance(exc, ConnectTimeoutError)  # NewConnectionError and NameResolutionError too


def short(exc: Exception) -> str:
    reason = getattr(exc, "reason", None)  # a MaxRetryError names what went wrong inside it
    return str(reason if reason is not None else exc)[:300]


def rfc2822(value: str | None) -> datetime | None:
    """An RFC 2822 date as an aware datetime (a zone-less one is UTC), or None."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    when = rfc2822(value)
    return None if when is None else max(0.0, when.timestamp() - time.time())

