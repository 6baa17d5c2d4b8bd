"""The content calendar: every scheduled, pending and published action on its day.

Days are the site's days: a time is placed in the zone of ``pipeline.yaml``
(``timezone``, UTC by default), so a post at 23:30 UTC lands on the next day in
Auckland. Pending actions (apply sends them at its next run) sit on the plan's day; an
overdue one (which no apply sends unless asked) on the day it was due. Months and weeks
with nothing in them get no page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from pipeline.report.preview.display import Card

EventState = Literal["scheduled", "pending", "overdue", "published"]
#: Events listed in a day of the month view, and of the week view, before "N more".
MONTH_CELL = 6
WEEK_DAY = 100
_PENDING_TONES = frozenset({"create", "update", "delete", "unknown", "wait"})
_PUBLISHED_TONES = frozenset({"noop", "changed", "orphan"})


@dataclass(frozen=True, slots=True)
class Event:
    """One action on the calendar, at its time in the site's zone."""

    card: Card
    at: datetime
    state: EventState


@dataclass(frozen=True, slots=True)
class Day:
    date: date
    events: tuple[Event, ...]
    more: int
    #: In the month shown (a month's grid starts and ends with days of its neighbours).
    inside: bool
    week: str

    @property
    def count(self) -> int:
        return len(self.events) + self.more


@dataclass(frozen=True, slots=True)
class Month:
    key: str
    title: str
    weeks: tuple[tuple[Day, ...], ...]
    count: int
    previous: str | None = None
    next: str | None = None


@dataclass(frozen=True, slots=True)
class Week:
    key: str
    title: str
    days: tuple[Day, ...]
    count: int
    month: str
    previous: str | None = None
    next: str | None = None


def events(cards: list[Card], now: datetime) -> list[Event]:
    """The cards that belong on a calendar, with their time and state, in time order."""
    found: list[Event] = []
    for card in cards:
        if card.tone == "wait" and card.when is not None:
            found.append(Event(card, card.when, "scheduled"))
        elif card.tone == "overdue" and card.when is not None:
            found.append(Event(card, card.when, "overdue"))
        elif card.tone in _PENDING_TONES:
            found.append(Event(card, now, "pending"))
        elif card.tone in _PUBLISHED_TONES and card.when is not None:
            found.append(Event(card, card.when, "published"))
    found.sort(key=lambda e: (e.at, e.card.key))
    return found


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def month_key(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def _by_day(found: list[Event]) -> dict[date, list[Event]]:
    days: dict[date, list[Event]] = {}
    for event in found:
        days.setdefault(event.at.date(), []).append(event)
    return days


def _day(when: date, days: dict[date, list[Event]], cap: int, inside: bool = True) -> Day:
    listed = days.get(when, [])
    return Day(when, tuple(listed[:cap]), max(0, len(listed) - cap), inside, week_key(when))


def months(found: list[Event]) -> list[Month]:
    """A month view for each month that has events, Monday first."""
    days = _by_day(found)
    keys = sorted({(d.year, d.month) for d in days})
    out: list[Month] = []
    for i, (year, month) in enumerate(keys):
        first = date(year, month, 1)
        last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
        start = first - timedelta(days=first.weekday())
        grid = [start + timedelta(days=n) for n in range((last - start).days + 7 - last.weekday())]
        rows = tuple(tuple(_day(d, days, MONTH_CELL, d.month == month) for d in grid[w:w + 7])
                      for w in range(0, len(grid), 7))
        count = sum(len(v) for d, v in days.items() if (d.year, d.month) == (year, month))
        out.append(Month(f"{year}-{month:02d}", first.strftime("%B %Y"), rows, count,
                         f"{keys[i - 1][0]}-{keys[i - 1][1]:02d}" if i else None,
                         f"{keys[i + 1][0]}-{keys[i + 1][1]:02d}" if i + 1 < len(keys) else None))
    return out


def weeks(found: list[Event]) -> list[Week]:
    """A week view for each week that has events."""
    days = _by_day(found)
    mondays = sorted({d - timedelta(days=d.weekday()) for d in days})
    out: list[Week] = []
    for i, monday in enumerate(mondays):
        week = tuple(_day(monday + timedelta(days=n), days, WEEK_DAY) for n in range(7))
        sunday = monday + timedelta(days=6)
        title = f"Week {monday.isocalendar()[1]}, {monday:%d %b} – {sunday:%d %b %Y}"
        busy = next(d.date for d in week if d.count)
        out.append(Week(week_key(monday), title, week, sum(d.count for d in week), month_key(busy),
                        week_key(mondays[i - 1]) if i else None,
                        week_key(mondays[i + 1]) if i + 1 < len(mondays) else None))
    return out
