"""Pull answers: a published collection as OneAll lists it, page by page.

The shape is OneAll's documented list shape by default [doc, docs/oneall-api.md §7]:
``result.data.<collection> = {"pagination": {…}, "count": N, "entries": […]}``. A
sandbox may answer the other shapes a client must also read: ``flat``
(``result.data = {"count", "entries"}``, no pagination, as OneAll's Search API) and
``prefixed`` (the collection named ``twitter_tweets``). Entries carry ``<object>_id``
and ``<object>_location`` (``long`` names) or ``id`` and ``url`` (``short``), a
tweet's text as ``text``, the other fields as sent, and ``date`` (RFC 2822).
"""

from __future__ import annotations

from typing import Any, Iterable, Literal, Mapping

from pipeline import catalog
from pipeline.catalog import Endpoint
from pipeline.errors import SandboxRefusal

PullShape = Literal["nested", "flat", "prefixed"]
EntryNames = Literal["long", "short"]
PULL_SHAPES: tuple[PullShape, ...] = ("nested", "flat", "prefixed")
ENTRY_NAMES: tuple[EntryNames, ...] = ("long", "short")

DEFAULT_PAGE = 250


def pull_page(endpoint: Endpoint, objects: Iterable[dict[str, Any]], params: Mapping[str, str],
              query: Mapping[str, list[str]], *, shape: PullShape, names: EntryNames) -> dict[str, Any]:
    """``result.data`` of a Pull answer listing ``objects`` (oldest first).

    Raises:
        SandboxRefusal: 400 for a page, page size or direction that is not one.
    """
    def first(name: str, default: str) -> str:
        return query.get(name, [default])[0]

    try:
        page = int(first("page", "1"))
        per_page = min(catalog.PULL_MAX_PAGE, int(first("entries_per_page", str(DEFAULT_PAGE))))
    except ValueError:
        raise SandboxRefusal(400, "page and entries_per_page must be whole numbers") from None
    direction = first("order_direction", "asc")
    if page < 1 or per_page < 1 or direction not in ("asc", "desc"):
        raise SandboxRefusal(400, "page and entries_per_page start at 1; order_direction is asc or desc")
    # The listing's own parameters (the page, the board) are not repeated in its entries.
    skip = {endpoint.by_name[name].wire_name for name in params}
    entries = [entry(endpoint, obj, names, skip) for obj in objects]
    if direction == "desc":
        entries.reverse()
    total = len(entries)
    window = entries[(page - 1) * per_page: page * per_page]
    if shape == "flat":
        return {"count": len(window), "entries": window}
    collection: dict[str, Any] = {
        "pagination": {"current_page": page, "total_pages": max(1, -(-total // per_page)),
                       "entries_per_page": per_page, "total_entries": total,
                       "order": {"field": "date_creation", "direction": direction}},
        "count": len(window),
    }
    if window:  # an empty list may carry count 0 and no entries [doc]
        collection["entries"] = window
    name = endpoint.pull_collection or endpoint.object
    return {f"{endpoint.network}_{name}" if shape == "prefixed" else name: collection}


def entry(endpoint: Endpoint, obj: Mapping[str, Any], names: EntryNames, skip: set[str]) -> dict[str, Any]:
    """One published object as a Pull entry."""
    out = {k: v for k, v in obj["fields"].items() if k not in skip}
    out.update((k, v) for k, v in obj["result"].items() if k not in catalog.RESULT_ENVELOPE_FIELDS)
    location = f"{endpoint.object}_location"
    if endpoint.type == "twitter.post" or names == "short":
        _rename(out, "message", "text")
    if names == "short":
        _rename(out, endpoint.id_field, "id")
        _rename(out, location, "url")
    out["date"] = obj["date"]
    return out


def _rename(entry: dict[str, Any], old: str, new: str) -> None:
    if old in entry:
        entry[new] = entry.pop(old)
