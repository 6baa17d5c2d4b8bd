"""Secrets that must never be shown: registered once, scrubbed from any text we emit."""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import quote

_lock = threading.Lock()
_secrets: set[str] = set()

MASK = "***"


def register(secret: str | None) -> None:
    """Remember ``secret`` (and its URL-encoded form) so ``redact`` hides it."""
    if not secret or len(secret) < 4:  # too short to scrub without mangling ordinary text
        return
    with _lock:
        _secrets.add(secret)
        _secrets.add(quote(secret, safe=""))
        # As JSON and text reports escape it ("ab\"cd", "Z\u00fcrich"), so must the mask.
        _secrets.add(json.dumps(secret)[1:-1])
        _secrets.add(json.dumps(secret, ensure_ascii=False)[1:-1])


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def contains_secret(value: Any) -> bool:
    """Whether any string inside ``value`` (dicts, lists, tuples) holds a secret."""
    if isinstance(value, str):
        return any(secret in value for secret in _secrets)
    if isinstance(value, dict):
        return any(contains_secret(k) or contains_secret(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(contains_secret(v) for v in value)
    return False


def active() -> bool:
    """Whether any secret is registered (when none is, nothing needs scrubbing)."""
    return bool(_secrets)
