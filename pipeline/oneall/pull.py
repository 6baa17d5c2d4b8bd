"""Reading Pull API lists as OneAll shapes them (docs/oneall-api.md §7).

Parsing is pure (``parse_page``, ``parse_entry``, ``normalise_text``, ``same_text``,
``matches``); ``listing`` is the only function that asks OneAll anything, through
any ``Reader`` (``OneAllClient`` is one).

A listing is believed complete only when an answer proves it: the pagination node
says this is the last page, a page holds fewer entries than were asked for, or a
newest-first listing reached an entry older than the time looked for. Anything else
(too many pages, an answer of no recognisable shape, a listing that is not newest
first or repeats itself) raises ``IncompleteListing``: whoever settles an unknown
outcome must then leave it unknown rather than conclude "absent" and publish twice.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Iterator, Mapping, Protocol

from pipeline import catalog
from pipeline.catalog import Endpoint, Kind
from pipeline.errors import IncompleteListing

#: At most this many pages per listing by default: 5,000 entries at the largest page size.
MAX_PAGES = 10


class Reader(Protocol):
    """Whatever reads a Pull resource: ``result.data`` of a GET (``OneAllClient.pull``)."""

    def pull(self, resource: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Entry:
    """One listed item, read under either of its names (``catalog.PULL_ENTRY_*``)."""

    id: str | None
    url: str | None
    text: str | None
    date: datetime | None  # aware
    fields: Mapping[str, Any]  # the entry as OneAll sent it


@dataclass(frozen=True, slots=True)
class Page:
    """One answer of a listing."""

    entries: tuple[Entry, ...]
    #: The pagination node says this is the last page.
    last: bool
    #: What the pagination node says, when it says it: the page's number, its size
    #: and the order's direction.
    number: int | None = None
    size: int | None = None
    direction: str | None = None


# ---------------------------------------------------------------------- parsing
def parse_page(data: Mapping[str, Any], endpoint: Endpoint) -> Page:
    """Read one Pull answer's ``result.data``, in any of the shapes §7 describes.

    The list sits flat in ``result.data`` (``{"count", "entries"}``), or in its one
    collection node below it, whatever that node's name (``tweets``,
    ``twitter_tweets``); with or without a pagination node; an empty list may be
    ``count: 0`` and no ``entries``.

    Raises:
        IncompleteListing: the answer has no recognisable list.
    """
    node = _collection(data, endpoint)
    raw = node.get("entries")
    if raw is None:
        if _integer(node.get("count")) != 0:
            raise IncompleteListing("the Pull API's answer has neither entries nor a count of 0")
        raw = []
    if not isinstance(raw, list) or not all(isinstance(e, Mapping) for e in raw):
        raise IncompleteListing("the Pull API's entries are not a list of objects")
    entries = tuple(parse_entry(e, endpoint) for e in raw)
    pagination = node.get("pagination")
    if not isinstance(pagination, Mapping):
        return Page(entries, last=False)
    number, total = _integer(pagination.get("current_page")), _integer(pagination.get("total_pages"))
    order = pagination.get("order")
    direction = order.get("direction") if isinstance(order, Mapping) else None
    last = (number is not None and total is not None and number >= total) \
        or _integer(pagination.get("total_entries")) == 0
    return Page(entries, last=last, number=number, size=_integer(pagination.get("entries_per_page")),
                direction=str(direction).lower() if direction is not None else None)


def parse_entry(raw: Mapping[str, Any], endpoint: Endpoint) -> Entry:
    """One entry: id (always a string), URL, text and date, each under either name."""
    ident = _first(raw, catalog.PULL_ENTRY_ID, endpoint)
    if isinstance(ident, int) and not isinstance(ident, bool):
        ident = str(ident)
    url, text = _first(raw, catalog.PULL_ENTRY_URL, endpoint), _first(raw, catalog.PULL_ENTRY_TEXT, endpoint)
    return Entry(
        id=ident if isinstance(ident, str) and catalog.is_segment(ident) else None,
        url=url if isinstance(url, str) else None,
        text=text if isinstance(text, str) else None,
        date=parse_date(_first(raw, catalog.PULL_ENTRY_DATE, endpoint)),
        fields=dict(raw),
    )


def parse_date(value: Any) -> datetime | None:
    """An RFC 2822 date (or, leniently, ISO 8601) as an aware datetime; zone-less is UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _collection(data: Mapping[str, Any], endpoint: Endpoint) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise IncompleteListing("the Pull API's answer is not an object")
    if _is_list(data):
        return data
    nodes = {name: node for name, node in data.items() if isinstance(node, Mapping) and _is_list(node)}
    if len(nodes) > 1 and endpoint.pull_collection:
        # Several lists: the one named after the endpoint's collection, prefixed or not.
        wanted = endpoint.pull_collection
        nodes = {n: v for n, v in nodes.items() if n == wanted or n.endswith("_" + wanted)}
    if len(nodes) != 1:
        found = "no list" if not nodes else f"{len(nodes)} lists ({', '.join(sorted(nodes))})"
        raise IncompleteListing(f"the Pull API's answer holds {found} where one was expected")
    return next(iter(nodes.values()))


def _is_list(node: Mapping[str, Any]) -> bool:
    return "entries" in node or "count" in node


def _first(raw: Mapping[str, Any], names: tuple[str, ...], endpoint: Endpoint) -> Any:
    for name in names:
        value = raw.get(name.format(object=endpoint.object))
        if value is not None:
            return value
    return None


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


# ---------------------------------------------------------------------- reading
def listing(reader: Reader, endpoint: Endpoint, resource: str, since: datetime, *,
            page_size: int = catalog.PULL_MAX_PAGE, max_pages: int = MAX_PAGES) -> Iterator[Entry]:
    """The entries of ``resource`` newest first, down to ``since`` (on OneAll's clock).

    Asks for pages 1, 2, … with ``order_direction=desc``, and stops, the listing
    proved complete, at the first entry older than ``since`` (not yielded), at the
    page the pagination node calls the last, or at a page with fewer entries than
    were asked for. An entry seen on an earlier page (a post published meanwhile
    pushes the list down) is yielded once.

    Raises:
        IncompleteListing: after ``max_pages`` pages, or when an answer has no
            recognisable list, is not the page asked for, or is not newest first.
        ValueError: ``since`` is naive, or ``page_size`` is not 1..PULL_MAX_PAGE.
        PipelineError: what ``reader`` raises.
    """
    if since.tzinfo is None:
        raise ValueError("since must be an aware datetime on OneAll's clock")
    if not 1 <= page_size <= catalog.PULL_MAX_PAGE:
        raise ValueError(f"page_size must be 1..{catalog.PULL_MAX_PAGE}")
    seen: set[str] = set()
    previous: datetime | None = None
    for number in range(1, max_pages + 1):
        page = parse_page(reader.pull(resource, {"page": number, "entries_per_page": page_size,
                                                 "order_direction": "desc"}), endpoint)
        if page.number is not None and page.number != number:
            raise IncompleteListing(f"asked for page {number} of {resource}, got page {page.number}")
        if page.direction not in (None, "desc"):
            raise IncompleteListing(f"{resource} is not listed newest first")
        fresh = [e for e in page.entries if e.id is None or e.id not in seen]
        if page.entries and not fresh:
            raise IncompleteListing(f"page {number} of {resource} repeats the entries before it")
        for entry in fresh:
            if entry.date is not None:
                if previous is not None and entry.date > previous:
                    raise IncompleteListing(f"{resource} is not listed newest first")
                previous = entry.date
                if entry.date < since:
                    return
            if entry.id is not None:
                seen.add(entry.id)
            yield entry
        if page.last or len(page.entries) < (page.size or page_size):
            return
    raise IncompleteListing(
        f"more than {max_pages * page_size} entries of {resource} since {since:%Y-%m-%d %H:%M:%S %z}: "
        "too many to be sure")


# ---------------------------------------------------------------------- comparing
#: Stands for every URL in a normalised text.
URL_PLACEHOLDER = "<url>"

# A URL with a scheme, a www. host, or a bare host name with a top-level domain (and
# any path): the networks turn all of these into links of their own (t.co).
_URL = re.compile(r"""
    \b[a-z][a-z0-9+.-]*://[^\s<>"]+
  | \bwww\.[^\s<>"]+
  | \b(?:[a-z0-9-]+\.)+[a-z]{2,}\b(?:/[^\s<>"]*)?
""", re.IGNORECASE | re.VERBOSE)
_TRAILING_URLS = re.compile(rf"(?:\s*{re.escape(URL_PLACEHOLDER)})+$")


def normalise_text(s: str) -> str:
    """``s`` as the network may have rewritten it: HTML entities decoded (Twitter
    answers ``&amp;``), Unicode composed (NFC), every URL replaced by
    ``URL_PLACEHOLDER`` (Twitter rewrites links to t.co), white space collapsed to
    single spaces and stripped."""
    text = unicodedata.normalize("NFC", html.unescape(s))
    return " ".join(_URL.sub(URL_PLACEHOLDER, text).split())


def same_text(sent: str, online: str) -> bool:
    """Whether ``online`` is ``sent`` as the network shows it: equal once normalised,
    trailing links aside (Twitter appends one for attached media).

    This is a near match in the reference's sense: it counts only when nothing else
    from that time could be the post, which is the caller's to decide.
    """
    ours, theirs = normalise_text(sent), normalise_text(online)
    return ours == theirs or _TRAILING_URLS.sub("", ours) == _TRAILING_URLS.sub("", theirs)


def matches(endpoint: Endpoint, sent_fields: Mapping[str, Any], entry: Entry) -> bool:
    """Whether ``entry`` could be what was sent with ``sent_fields`` (the wire
    fields, as ``endpoint.wire_fields`` gives them).

    Text fields compare with ``same_text``: the message against the entry's text
    (``catalog.PULL_ENTRY_TEXT``), any other against the entry's field of the same
    name. Other scalar fields compare exactly (as strings: ids are strings on the
    wire) when the entry has them. A media URL counts only when it is the same (the
    network may show its own copy of the file, so a different one proves nothing).
    Lists (attachment ids) are not compared. An entry that shows none of the sent
    fields matches nothing: absence of evidence is not a match.
    """
    specs = {f.wire_name: f for f in endpoint.fields}
    compared = 0
    for name, value in sent_fields.items():
        spec = specs.get(name)
        if spec is None or value is None or isinstance(value, (list, tuple, Mapping)):
            continue
        if spec.media:
            compared += entry.fields.get(name) == value
            continue
        if spec.kind is Kind.TEXT:
            online = entry.text if name in catalog.PULL_ENTRY_TEXT else entry.fields.get(name)
            if not isinstance(online, str):
                continue
            if not same_text(str(value), online):
                return False
        else:
            online = entry.fields.get(name)
            if online is None:
                continue
            if _scalar(online) != _scalar(value):
                return False
        compared += 1
    return compared > 0


def telling(endpoint: Endpoint, sent_fields: Mapping[str, Any]) -> bool:
    """Whether what was sent holds a field by which a listing reliably shows the post
    (a non-empty text or scalar that is not a media URL). Without one, a listing that
    does not show the post proves nothing: it may be there under another look."""
    specs = {f.wire_name: f for f in endpoint.fields}
    return any(spec is not None and not spec.media and not spec.in_path and value not in (None, "")
               and not isinstance(value, (list, tuple, Mapping))
               for name, value in sent_fields.items() for spec in [specs.get(name)])


def _scalar(value: Any) -> Any:
    return value if isinstance(value, bool) or not isinstance(value, (int, float, str)) else str(value)
