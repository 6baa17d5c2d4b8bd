"""What goes over the wire: reading a request's body, and OneAll's answer envelope.

Also the answers that are not OneAll's: the HTML page a proxy or gateway puts in
front of a 502. Dates are on OneAll's clock, which the caller passes in.
"""

from __future__ import annotations

import json
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, Callable

MAX_BODY_BYTES = 1024 * 1024

StartResponse = Callable[..., Any]

_GATEWAY_PAGE = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                 b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
                 b"</body>\r\n</html>\r\n")


def read_body(environ: dict[str, Any]) -> bytes:
    """The request's body, at most ``MAX_BODY_BYTES`` of it."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return b""
    data: bytes = environ["wsgi.input"].read(min(length, MAX_BODY_BYTES))
    return data


def answer(start_response: StartResponse, resource: str, code: int, info: str, data: Any, *,
           now: float, headers: list[tuple[str, str]] | None = None) -> list[bytes]:
    """OneAll's envelope: ``response.request`` always, ``response.result.data`` on success."""
    request = {"date": formatdate(now, localtime=True), "resource": resource,
               "status": {"flag": "success" if code < 400 else "error", "code": code, "info": info}}
    response: dict[str, Any] = {"request": request}
    if data is not None:
        response["result"] = {"data": data}
    payload = json.dumps({"response": response}).encode()
    return _send(start_response, code, payload, "application/json", now, headers or [])


def gateway_page(start_response: StartResponse, *, now: float) -> list[bytes]:
    """A 502 as a proxy in front of OneAll answers it: HTML, no envelope."""
    return _send(start_response, 502, _GATEWAY_PAGE, "text/html", now, [])


def _send(start_response: StartResponse, code: int, payload: bytes, content_type: str, now: float,
          headers: list[tuple[str, str]]) -> list[bytes]:
    try:
        reason = HTTPStatus(code).phrase
    except ValueError:
        reason = "Error"
    start_response(f"{code} {reason}", [("Content-Type", content_type),
                                        ("Content-Length", str(len(payload))),
                                        ("Date", formatdate(now, usegmt=True)), *headers])
    return [payload]
