"""Reading recorded posts back through the Pull API: what is online for an address.

Two uses, one reader (the one that settles unknown outcomes, ``oneall.pull``):
adopting a post made elsewhere (``pipeline import``), and finding drift, what changed
online since the pipeline last sent it (``pipeline refresh``). Reading is bounded (a
page budget per listing, one listing per resource) and paced per account; a listing
that cannot be read whole leaves its posts ``unchecked``, never ``deleted``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator, Literal, Mapping

from pipeline import catalog
from pipeline.catalog import Endpoint, Kind
from pipeline.errors import IncompleteListing, PipelineError
from pipeline.apply.results import answer_ids
from pipeline.model.state import Record, State
from pipeline.oneall.pull import Entry, Reader, listing, same_text

#: Pages read at most per listing: 50 pages of 500 entries.
MAX_PAGES = 50
#: Seconds between two Pull requests for one account: reading back must never be the
#: reason a network throttles the account that publishes.
PACE = 0.2
#: Look this much before the oldest post of a listing (dates are OneAll's and the
#: network's, not ours).
SLACK = timedelta(days=1)

DriftKind = Literal["ok", "edited", "deleted", "unchecked"]


def online_request(endpoint: Endpoint, entry: Entry, like: Mapping[str, Any]) -> dict[str, Any]:
    """What ``entry`` holds, as a manifest's request: each field of ``like`` (a rendering)
    replaced by what the entry shows of it, and the fields only the entry shows added.
    References, lists and path parameters are kept as ``like`` has them: a listing does
    not show them in a comparable form."""
    out = dict(like)
    # The listing's own parameter (a page post's page) is what was listed, and a field
    # whose wire name is also an entry's id (a page's ``id``) cannot be told from it.
    ids = {name.format(object=endpoint.object) for name in catalog.PULL_ENTRY_ID}
    for spec in endpoint.fields:
        if spec.in_path or spec.kind is Kind.ID_LIST or isinstance(like.get(spec.name), dict) \
                or f"{{{spec.name}}}" in (endpoint.pull or "") or spec.wire_name in ids:
            continue
        if spec.kind is Kind.TEXT and spec.wire_name in catalog.PULL_ENTRY_TEXT:
            value: Any = entry.text
        else:
            value = entry.fields.get(spec.wire_name)
        if value is None or value == "" or spec.kind is Kind.ID and isinstance(value, dict):
            continue
        out[spec.name] = str(value) if spec.kind in (Kind.ID, Kind.TEXT, Kind.URL) else value
    return out


def entry_result(endpoint: Endpoint, entry: Entry) -> dict[str, str]:
    """The ids and URL of a listed post, as the Push result would have named them, kept
    as an answer's are (``answer_ids``: an id that cannot stand in a path is dropped)."""
    result: dict[str, Any] = {k: entry.fields[k] for k in endpoint.results if entry.fields.get(k) is not None}
    if entry.id:
        result[endpoint.id_field] = entry.id
    if entry.url and endpoint.location_field:
        result[endpoint.location_field] = entry.url
    return answer_ids(endpoint, result)


def differences(endpoint: Endpoint, sent: Mapping[str, Any], online: Mapping[str, Any]) -> list[str]:
    """The fields whose online value is not what was sent: texts compared with links and
    white space normalised (networks rewrite both), media URLs not compared (networks
    show their own copy), the rest exactly."""
    out = []
    for spec in endpoint.fields:
        old, new = sent.get(spec.name), online.get(spec.name)
        if spec.media or old == new or old is None or new is None or isinstance(old, (dict, list)):
            continue
        if spec.kind is Kind.TEXT and same_text(str(old), str(new)):
            continue
        out.append(spec.name)
    return out


@dataclass(frozen=True)
class Drift:
    """What reading back found for one recorded address."""

    address: str
    kind: DriftKind
    detail: str = ""
    #: For ``edited``: what is online, as a manifest's request, and the fields that differ.
    online: Mapping[str, Any] = field(default_factory=dict)
    fields: tuple[str, ...] = ()


class Paced:
    """A reader that waits ``PACE`` seconds between two requests for one account."""

    def __init__(self, reader: Reader, pace: float = PACE, sleep: Callable[[float], None] = time.sleep) -> None:
        self.reader, self.pace, self.sleep = reader, pace, sleep
        self.last: dict[str, float] = {}

    def pull(self, resource: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        token = resource.split("/")[3] if resource.count("/") > 3 else ""
        wait = self.last.get(token, 0.0) + self.pace - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        try:
            return self.reader.pull(resource, params)
        finally:
            self.last[token] = time.monotonic()


def find(reader: Reader, endpoint: Endpoint, resource: str, post_id: str,
         max_pages: int = MAX_PAGES) -> Entry | None:
    """The entry with ``post_id`` in ``resource``, newest first; None when the whole
    listing was read without it.

    Raises:
        IncompleteListing: the listing could not be read whole within ``max_pages``.
    """
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    for entry in listing(reader, endpoint, resource, epoch, max_pages=max_pages):
        if entry.id == post_id:
            return entry
    return None


def entries(reader: Reader, endpoint: Endpoint, resource: str, since: datetime,
            max_pages: int = MAX_PAGES) -> Iterator[Entry]:
    """Every entry of ``resource`` since ``since`` (see ``oneall.pull.listing``)."""
    return listing(reader, endpoint, resource, since, max_pages=max_pages)


def check(state: State, reader: Reader, tokens: Mapping[str, str],
          max_pages: int = MAX_PAGES) -> list[Drift]:
    """Read back every published record that a Pull resource lists; one listing per
    resource and account. The others are ``unchecked``, saying why."""
    groups: dict[tuple[str, str], list[tuple[str, Record]]] = defaultdict(list)
    out: list[Drift] = []
    for address, record in sorted(state.resources.items()):
        if record.status != "published":
            continue
        endpoint = catalog.BY_TYPE.get(record.type)
        token = tokens.get(record.identity)
        resource = _resource(endpoint, token, record, state) if endpoint and token else None
        if resource is None:
            why = ("OneAll lists no such post" if endpoint is not None and endpoint.pull is None
                   else "its account or listing is not known")
            out.append(Drift(address, "unchecked", why))
            continue
        groups[(record.type, resource)].append((address, record))
    for (type_name, resource), members in groups.items():
        out.extend(_check_listing(catalog.BY_TYPE[type_name], resource, members, reader, max_pages))
    return sorted(out, key=lambda d: d.address)


def _resource(endpoint: Endpoint, token: str, record: Record, state: State) -> str | None:
    """The Pull resource that lists ``record``'s post, its path parameters filled from
    what was sent and the ids of the posts it references."""
    values: dict[str, Any] = {}
    for name, value in (record.request or {}).items():
        if isinstance(value, dict) and "ref" in value:
            target = state.resources.get(value["ref"])
            spec = endpoint.by_name[name]
            if target is None or not spec.accepts:
                return None
            value = target.result.get(catalog.BY_TYPE[target.type].id_field)
        values[name] = value
    try:
        return endpoint.pull_path(token, values)
    except (KeyError, ValueError):
        return None  # a path parameter that was never recorded


def _check_listing(endpoint: Endpoint, resource: str, members: list[tuple[str, Record]],
                   reader: Reader, max_pages: int) -> list[Drift]:
    oldest = min((r.published_at for _, r in members if r.published_at), default=None)
    since = (oldest - SLACK) if oldest else datetime(1970, 1, 1, tzinfo=timezone.utc)
    seen: dict[str, Entry] = {}
    try:
        for listed in entries(reader, endpoint, resource, since, max_pages):
            if listed.id is not None:
                seen[listed.id] = listed
        complete, why = True, ""
    except IncompleteListing as exc:
        complete, why = False, str(exc)
    except PipelineError as exc:
        complete, why = False, f"reading back failed: {exc}"
    out = []
    for address, record in members:
        post_id = record.result.get(endpoint.id_field)
        entry = seen.get(post_id) if post_id else None
        if entry is None:
            out.append(Drift(address, "deleted", "not listed any more") if complete and post_id
                       else Drift(address, "unchecked", why or "no id recorded"))
            continue
        sent = record.request or {}
        online = online_request(endpoint, entry, sent)
        changed = differences(endpoint, sent, online)
        out.append(Drift(address, "edited", "changed online", online, tuple(changed)) if changed
                   else Drift(address, "ok"))
    return out
