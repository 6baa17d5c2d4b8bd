"""Secrets that must never be shown: registered once, scrubbed from any text we emit."""

from __future__ import annotations

import threading
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


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def active() -> bool:
    """Whether any secret is registered (when none is, nothing needs scrubbing)."""
    return bool(_secrets)
