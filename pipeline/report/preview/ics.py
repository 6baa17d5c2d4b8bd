"""The content calendar as iCalendar (RFC 5545), for a team to subscribe to.

Written by hand: one VCALENDAR of VEVENTs is a few lines of text, and the rules that
matter are few: CRLF line ends, lines folded at 75 octets (never inside a UTF-8
character), and TEXT values with backslash, semicolon, comma and new lines escaped.
Times are UTC (``...Z``), which every client shows in its own zone. Control
characters a manifest might hold are dropped: no value can start a property of its own.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from pipeline import __version__
from pipeline.report.preview.calendar import Event

#: How long an event lasts on a calendar: a post is a moment, shown as a short slot.
DURATION = timedelta(minutes=15)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_STATUS = {"scheduled": "TENTATIVE", "pending": "TENTATIVE", "overdue": "TENTATIVE", "published": "CONFIRMED"}


def escape(text: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11)."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def fold(line: str) -> str:
    """One content line folded at 75 octets, continuation lines starting with a space."""
    if len(line) <= 75 and line.isascii():
        return line
    if line.isascii():
        return "\r\n ".join([line[:75], *(line[i:i + 74] for i in range(75, len(line), 74))])
    out: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > 75:
            out.append("".join(current))
            current, size = [" "], 1
        current.append(char)
        size += width
    out.append("".join(current))
    return "\r\n".join(out)


def _utc(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def ics(found: list[Event], *, name: str, now: datetime) -> str:
    """The calendar of ``found``: one event per action, its UID stable across runs."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:-//pipeline//preview {__version__}//EN",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", f"X-WR-CALNAME:{escape(name)}"]
    for event in found:
        card = event.card
        text = card.snippet
        summary = f"{card.network_name} ({card.identity}): {text}"
        description = [f"{card.status}: {card.address}", f"{card.type} as {card.identity}"]
        description += ["".join(s.text for s in block.segments) for block in card.texts]
        lines += ["BEGIN:VEVENT", f"UID:{card.anchor}@pipeline", f"DTSTAMP:{_utc(now)}",
                  f"DTSTART:{_utc(event.at)}", f"DTEND:{_utc(event.at + DURATION)}",
                  f"SUMMARY:{escape(summary)}", f"DESCRIPTION:{escape(chr(10).join(description))}",
                  f"STATUS:{_STATUS[event.state]}", f"CATEGORIES:{escape(card.network_name)},{event.state}"]
        if card.url:
            lines.append(f"URL:{card.url}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
