"""Untrusted text cut into what a network sets apart: links, #hashtags and @mentions.

The pieces stay text: the templates escape every one of them, and a link becomes an
``href`` only when it is an absolute http(s) URL with a host and nothing that could
leave the attribute or the URL (``safe_href``). Anything else (``javascript:``,
``data:``, a relative path) is shown as the text it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

SegmentKind = Literal["text", "link", "hashtag", "mention"]

_TOKENS = re.compile(
    r"(?P<link>\bhttps?://[^\s<>\"'`]+)"
    r"|(?P<hashtag>(?<![\w&#/])#\w+)"
    r"|(?P<mention>(?<![\w@/.])@\w{1,50})",
    re.IGNORECASE)
#: Punctuation that ends a sentence more often than a URL.
_TRAILING = ".,;:!?'\")]}"
#: Characters never let into an href: white space, controls, quotes, angle brackets.
_UNSAFE_URL = re.compile(r"[\s\x00-\x1f\x7f-\x9f\"'<>`\\]")
#: An absolute http(s) URL's scheme and authority (user info, host, port).
_AUTHORITY = re.compile(r"(?i:https?)://(?:[^/?#@]*@)?(\[[0-9A-Fa-f:.]+\]|[^/?#:@\[\]]+)(?::\d*)?(?=[/?#]|$)")


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text, and what it is: plain text, a link, a hashtag or a mention."""

    kind: SegmentKind
    text: str
    #: For a link: where it leads (a safe http(s) URL).
    href: str | None = None


def safe_href(url: object) -> str | None:
    """``url`` if it is an absolute http(s) URL with a host and no character that could
    end an attribute or smuggle another scheme; otherwise None (shown as text, never linked)."""
    if not isinstance(url, str) or len(url) > 2048 or _UNSAFE_URL.search(url):
        return None
    return url if _AUTHORITY.match(url) else None


def domain(url: str) -> str:
    """The host of a URL, as a link preview shows it."""
    match = _AUTHORITY.match(url) if safe_href(url) else None
    return match.group(1).lower().removeprefix("www.") if match else ""


def segments(text: str) -> tuple[Segment, ...]:
    """``text`` cut into plain text, links, hashtags and mentions, in order."""
    if "http" not in text and "#" not in text and "@" not in text:
        return (Segment("text", text),)  # the common case of a title or a description
    out: list[Segment] = []
    last = 0
    for match in _TOKENS.finditer(text):
        start, end, kind = match.start(), match.end(), match.lastgroup
        token = match.group()
        href = None
        if kind == "link":
            while token and token[-1] in _TRAILING and not (token[-1] == ")" and "(" in token):
                token = token[:-1]
            end = start + len(token)
            href = safe_href(token)
            if href is None:
                continue  # left inside the surrounding text
        if start > last:
            out.append(Segment("text", text[last:start]))
        out.append(Segment(kind, token, href))  # type: ignore[arg-type]
        last = end
    if last < len(text):
        out.append(Segment("text", text[last:]))
    return tuple(out)
