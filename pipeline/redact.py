"""Secrets that must never be shown: registered once, scrubbed from any text we emit.

A secret is looked for in every form in which text we emit could carry it: as is, URL-
and JSON- and HTML-escaped, reversed, hex, base64 (at each of the three alignments a
secret can take inside a longer base64 text) — and in any letter case. Every secret
is masked whatever its length: a three-character secret over-masks ordinary text,
which is better than showing it. The transformed forms (reversed, hex, base64) are
looked for only for secrets of ``MIN_TRANSFORMED`` characters or more, where a match is
not a coincidence.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from typing import Any
from urllib.parse import quote, quote_plus

_lock = threading.Lock()
_secrets: set[str] = set()
#: Every form of every secret, lower-cased: what ``contains_secret`` looks for.
_forms: frozenset[str] = frozenset()
#: The same forms as written too, in one case-blind pattern: what ``redact`` replaces.
_written: set[str] = set()
_pattern: re.Pattern[str] | None = None

MASK = "***"
MIN_TRANSFORMED = 6


def _base64_cores(raw: bytes) -> set[str]:
    """The base64 characters that ``raw`` alone decides, at each alignment it can take
    inside a longer encoded text (the characters it shares with its neighbours vary)."""
    cores: set[str] = set()
    for lead in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(b"\0" * lead + raw + b"\0\0").decode("ascii")
            start = -(-lead * 8 // 6)  # the first character with no bit of the lead
            end = (lead + len(raw)) * 8 // 6  # up to the first one with a bit after
            if end - start >= MIN_TRANSFORMED:
                cores.add(text[start:end])
    return cores


def forms(secret: str) -> set[str]:
    """Every form of ``secret`` that ``redact`` masks, as written and lower-cased."""
    found = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), html.escape(secret),
             # As JSON and text reports escape it ("ab\"cd", "Z\u00fcrich"), so must the mask.
             json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    if len(secret) >= MIN_TRANSFORMED:
        raw = secret.encode("utf-8")
        found |= {secret[::-1], raw.hex()} | _base64_cores(raw)
    return {f for form in found if form for f in (form, form.lower())}


def register(secret: str | None) -> None:
    """Remember ``secret`` (and every form of it) so ``redact`` hides it, however short."""
    global _forms, _pattern
    if not secret:
        return
    with _lock:
        if secret in _secrets:
            return
        _secrets.add(secret)
        _written.update(forms(secret))
        _forms = frozenset(form.lower() for form in _written)
        ordered = sorted(_written, key=len, reverse=True)  # the longest form masks first
        _pattern = re.compile("|".join(map(re.escape, ordered)), re.IGNORECASE)


def _holds(text: str) -> bool:
    if not _forms:
        return False
    low = text.lower()  # one pass in C; then each form is a fast substring search
    return any(form in low for form in _forms)


def redact(text: str) -> str:
    """``text`` with every registered secret, in any of its forms, replaced by ``***``."""
    if _pattern is None or not _holds(text):
        return text
    text = _pattern.sub(MASK, text)
    if _holds(text):
        # Case folding that changes a text's length (a dotted capital I) can hide a form
        # from the pattern: then each line that still holds one is masked whole.
        text = "\n".join(MASK if _holds(line) else line for line in text.split("\n"))
    return text


def contains_secret(value: Any) -> bool:
    """Whether any string inside ``value`` (dicts, lists, tuples) holds a secret in any form."""
    if isinstance(value, str):
        return _holds(value)
    if isinstance(value, dict):
        return any(contains_secret(k) or contains_secret(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(contains_secret(v) for v in value)
    return False


def is_secret(value: str) -> bool:
    """Whether ``value`` is, or holds as is, a registered secret."""
    return any(secret in value for secret in _secrets)


def active() -> bool:
    """Whether any secret is registered (when none is, nothing needs scrubbing)."""
    return bool(_secrets)
