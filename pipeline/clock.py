"""The one clock: the time now, in UTC, for plans, journal events and locks.

One function, so that tests and the benchmark can see every place that reads the time,
and so that no two phases of one run disagree about how to read it.
"""

from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc)


def stamp(when: datetime | None = None) -> str:
    """``when`` (default: now) as ISO 8601 to the second, as the journal and locks write it."""
    return (when or now()).isoformat(timespec="seconds")
