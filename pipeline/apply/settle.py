"""Settling unknown outcomes by reading back through the Pull API.

An ``unknown`` address sent a request whose answer never came. Resending it could
post twice, so before anything else apply looks for the post itself: the Pull
collection of its endpoint, entries from around the time it was sent, one whose
fields are exactly what was sent. Found: it is recorded as published, with its ids.
Surely absent (listed completely, not there, and long enough ago that OneAll cannot
still be working on it): the attempt is dropped and the plan publishes it again.
Anything else (no Pull listing for that type, a read that failed): it stays
``unknown`` for the user to settle with ``pipeline state resolve``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Iterator, Literal, Mapping, Protocol

from pipeline import catalog, clock
from pipeline.errors import ListingIncomplete, PipelineError
from pipeline.model.state import Event, Failed, Published, Record, State

#: Clocks differ: look this much before the request's time for its post.
CLOCK_SLACK = timedelta(minutes=5)
PAGE_SIZE = 100
MAX_PAGES = 20  # 2,000 entries back at most: a settle must stay cheap


class Reader(Protocol):
    def pull(self, resource: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Settled:
    address: str
    outcome: Literal["published", "absent", "unknown"]
    detail: str
    result: Mapping[str, str]


def settle(state: State, reader: Reader, tokens: Mapping[str, str], now: datetime,
           grace: timedelta, commit: Callable[[Event], None]) -> list[Settled]:
    """Try to settle every unknown address; ``commit`` journals what was learned."""
    # A post already recorded under another address is not this one. Ids are compared
    # within one type: a playlist item's video_id is also the upload's own id.
    claimed = {(r.type, r.result.get(catalog.BY_TYPE[r.type].id_field))
               for r in state.resources.values() if r.status == "published"}
    out: list[Settled] = []
    for address, rec in sorted(state.resources.items()):
        if rec.status != "unknown":
            continue
        settled = _settle_one(address, rec, reader, tokens, now, grace, claimed)
        if settled.outcome == "published":
            claimed.add((rec.type, settled.result.get(catalog.BY_TYPE[rec.type].id_field)))
            commit(Published(address, type=rec.type, identity=rec.identity, digest=rec.digest,
                             result=dict(settled.result), at=clock.stamp(now),
                             attempted_at=clock.stamp(rec.attempted_at) if rec.attempted_at else None,
                             request=rec.request))
        elif settled.outcome == "absent":
            commit(Failed(address, at=clock.stamp(now)))
        out.append(settled)
    return out


def _settle_one(address: str, rec: Record, reader: Reader, tokens: Mapping[str, str],
                now: datetime, grace: timedelta, claimed: set[tuple[str, str | None]]) -> Settled:
    endpoint = catalog.BY_TYPE[rec.type]
    token = tokens.get(rec.identity)
    if token is None or rec.sent is None or rec.attempted_at is None:
        return Settled(address, "unknown", "not enough is recorded to look it up", {})
    resource = endpoint.pull_path(token, rec.sent)
    if resource is None:
        return Settled(address, "unknown", f"the Pull API does not list {rec.type}", {})
    wanted = endpoint.wire_fields(rec.sent)
    since = rec.attempted_at - CLOCK_SLACK
    try:
        for entry in _entries(reader, resource, since):
            if all(entry.get(k) == v for k, v in wanted.items()):
                result = {k: str(entry[k]) for k in endpoint.results if k in entry}
                if result.get(endpoint.id_field) and (rec.type, result[endpoint.id_field]) not in claimed:
                    return Settled(address, "published", "found by reading back", result)
    except ListingIncomplete as exc:
        return Settled(address, "unknown", str(exc), {})
    except PipelineError as exc:
        return Settled(address, "unknown", f"reading back failed: {exc}", {})
    if now - rec.attempted_at < grace:
        return Settled(address, "unknown", "not found yet; OneAll may still be working on it", {})
    return Settled(address, "absent", "surely not published: reading back found nothing", {})


def _entries(reader: Reader, resource: str, since: datetime) -> Iterator[dict[str, Any]]:
    """Entries newest first, down to ``since``.

    Raises ``ListingIncomplete`` unless the listing provably holds everything since then: an
    entry older than ``since`` was reached, or the pagination says this was the last page.
    """
    for page in range(1, MAX_PAGES + 1):
        data = reader.pull(resource, {"page": page, "entries_per_page": PAGE_SIZE,
                                      "order_direction": "desc"})
        for entry in data.get("entries") or []:
            try:
                when = parsedate_to_datetime(str(entry.get("date")))
            except (TypeError, ValueError):
                when = None
            if when is not None and when < since:
                return
            yield entry
        pagination = data.get("pagination")
        try:
            last = isinstance(pagination, dict) and page >= int(pagination["total_pages"])
        except (KeyError, TypeError, ValueError):
            last = False
        if last:
            return
        if not data.get("entries") or not isinstance(pagination, dict):
            raise ListingIncomplete("the Pull API's answer does not show that the listing is complete")
    raise ListingIncomplete(f"more than {MAX_PAGES * PAGE_SIZE} entries since the request: "
                      "too many to be sure")
