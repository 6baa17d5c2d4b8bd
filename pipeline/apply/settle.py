"""Settling unknown outcomes by reading back through the Pull API.

An ``unknown`` address sent a request whose answer never came. Resending it could
post twice, so before anything else apply looks for the post itself: the Pull
collection of its endpoint, newest first, down to a little before the request was
sent, for one entry that is what was sent (texts compared with links and white space
normalised: networks rewrite both). Found, and nothing else from that time could be
it: recorded as published, with its ids. Surely absent (listed completely, not there,
and long enough ago that OneAll cannot still be working on it): the attempt is dropped
and the plan publishes it again. Anything else stays ``unknown`` for the user to
settle with ``pipeline state resolve``.

Times are compared on OneAll's clock, never the local one: a runner whose clock is
hours off must neither miss its own post nor give up on it too early. An intent
records the offset between the two clocks when it was known; otherwise the offset
measured while settling stands in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Literal, Mapping, Protocol

from pipeline import catalog, clock
from pipeline.errors import IncompleteListing, PipelineError
from pipeline.model.journal import Event, Failed, Published
from pipeline.model.state import Record, State
from pipeline.apply.readback import entry_result
from pipeline.oneall.pull import listing, matches, telling

#: Look this much before the request's time (on OneAll's clock) for its post: the
#: answer's date has one-second precision, and the network stamps the post itself.
CLOCK_SLACK = timedelta(minutes=5)


class Reader(Protocol):
    """A Pull reader that also knows OneAll's clock (``OneAllClient`` is one)."""

    def pull(self, resource: str, params: Mapping[str, object] | None = None) -> dict[str, object]: ...

    @property
    def clock_offset(self) -> timedelta | None: ...


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
    try:
        offset = _offset(rec, reader, resource)
        since = rec.attempted_at + offset - CLOCK_SLACK
        found = [e for e in listing(reader, endpoint, resource, since)
                 if e.id is not None and (rec.type, e.id) not in claimed and matches(endpoint, wanted, e)]
    except IncompleteListing as exc:
        return Settled(address, "unknown", str(exc), {})
    except PipelineError as exc:
        return Settled(address, "unknown", f"reading back failed: {exc}", {})
    if len(found) == 1:
        return Settled(address, "published", "found by reading back", entry_result(endpoint, found[0]))
    if found:
        # A near match counts only when nothing else from that time could be it.
        return Settled(address, "unknown", f"{len(found)} posts from that time could be it: "
                       f"{', '.join(e.id or '?' for e in found)}", {})
    if not telling(endpoint, wanted):
        return Settled(address, "unknown", "not found, but nothing that was sent shows reliably in "
                       f"what OneAll lists for {rec.type}: settle it by hand", {})
    # Both times on OneAll's clock when it is known, else both local: never mixed.
    offset_now = reader.clock_offset
    waited = now - rec.attempted_at + ((offset_now - offset) if offset_now is not None else timedelta(0))
    if waited < grace:
        return Settled(address, "unknown", "not found yet; OneAll may still be working on it", {})
    return Settled(address, "absent", "surely not published: reading back found nothing", {})


def _offset(rec: Record, reader: Reader, resource: str) -> timedelta:
    """OneAll's time minus the local time of the run that sent the request."""
    if rec.clock_offset is not None:
        return timedelta(seconds=rec.clock_offset)
    if reader.clock_offset is None:
        reader.pull(resource, {"page": 1, "entries_per_page": 1})  # any answer tells OneAll's time
    return reader.clock_offset or timedelta(0)
