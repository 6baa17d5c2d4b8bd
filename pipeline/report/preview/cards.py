"""A plan as cards: each change as its network would show it, ready for a template.

A card holds only display values (text cut into segments, safe hrefs, embedded
thumbnails, times in the site's zone); the templates add no logic and escape all of it.
What goes where follows the catalogue: a field's kind and medium decide whether it is
body text, a picture, a link preview or a detail, so a new endpoint needs nothing here.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from pipeline import catalog
from pipeline.catalog import Kind
from pipeline.load.thumbnails import Thumbnail
from pipeline.model.plan import Change, Plan
from pipeline.report.preview.display import (TIME_FORMAT, Card, Detail, Diff, LinkPreview,
                                              Media, TextBlock)
from pipeline.report.preview.text import domain, safe_href, segments

#: What each network itself accepts, where OneAll's catalogue sets no limit [network
#: documentation]: OneAll would pass such a post on, and the network refuse it.
NETWORK_LIMITS: Mapping[tuple[str, str], int] = {
    ("linkedin.post", "message"): 3000, ("linkedin.company.post", "message"): 3000,
    ("pinterest.pin", "description"): 500, ("pinterest.board", "description"): 500,
    ("youtube.video", "title"): 100, ("youtube.video", "description"): 5000,
    ("youtube.playlist", "title"): 150, ("youtube.playlist", "description"): 5000,
    **{(e.type, "message"): 63206 for e in catalog.ENDPOINTS if e.network == "facebook"},
}
#: The field a network reads as a picture's alternative text, where it takes one.
ALT_TEXT: Mapping[str, str] = {e.type: "description" for e in catalog.ENDPOINTS
                               if e.type.endswith(".picture") or e.type == "pinterest.pin"}
#: Text fields shown as a line of detail rather than as the post's text.
_DETAIL_TEXT = frozenset({"location", "section_type", "style", "default_language"})
_HEADLINE = frozenset({"title", "name"})
_LINK_PREVIEW = {"linkedin": ("link", "title", "description", "picture")}


def anchor(key: str) -> str:
    """A stable id for a card, whatever its address holds."""
    return "a-" + hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def build(plan: Plan, zone: ZoneInfo, thumbnails: Mapping[str, Thumbnail]) -> list[Card]:
    """Every change of ``plan`` as a card, in plan order."""
    by_address = {c.address: c for c in plan.changes if not c.superseded}
    times = effective_times(plan)
    return [_card(c, plan, zone, thumbnails, by_address, times.get(c.key)) for c in plan.changes]


def effective_times(plan: Plan) -> dict[str, datetime]:
    """When each waiting change goes out: its own time, else the latest of what it waits
    for, else (an upload that goes with its first post) the earliest post using it.

    Two linear passes: a plan lists what a change waits for before the change.
    """
    changes = [c for c in plan.changes if not c.superseded]
    known: dict[str, datetime] = {}
    users: dict[str, list[str]] = {}
    for change in changes:
        for dep in change.depends_on:
            users.setdefault(dep, []).append(change.address)
        if change.publish_at is not None:
            known[change.address] = change.publish_at
        elif change.kind == "wait":
            after = [known[d] for d in change.depends_on if d in known]
            if after:
                known[change.address] = max(after)
    for change in reversed(changes):
        if change.kind == "wait" and change.address not in known:
            first = [known[u] for u in users.get(change.address, ()) if u in known]
            if first:
                known[change.address] = min(first)
    return {c.key: known[c.address] for c in changes if c.address in known}


def _card(change: Change, plan: Plan, zone: ZoneInfo, thumbnails: Mapping[str, Thumbnail],
          by_address: Mapping[str, Change], scheduled: datetime | None) -> Card:
    endpoint = catalog.BY_TYPE.get(change.type)
    record = change.record
    request = change.request or (record.request if record is not None and record.request else {})
    manifest = change.address.rsplit("/", 1)[0] if "/" in change.address else change.address
    status, tone, when, when_label = _status(change, plan.created_at, scheduled)
    headline: TextBlock | None = None
    texts: list[TextBlock] = []
    media: list[Media] = []
    details: list[Detail] = []
    marks: list[str] = []
    preview_fields = _LINK_PREVIEW.get(endpoint.network if endpoint else "", ())
    preview: dict[str, Any] = {}
    for name, value in request.items():
        spec = endpoint.by_name.get(name) if endpoint else None
        if spec is None:
            details.append(Detail(name, _plain(value)))
        elif name in preview_fields or (name == "link" and spec.kind is Kind.URL):
            preview[name] = value
        elif spec.media and spec.kind is Kind.URL:
            media.append(_media(spec.media, value, thumbnails, _alt(change.type, request)))
        elif spec.kind is Kind.TEXT and name not in _DETAIL_TEXT and isinstance(value, str):
            block = _text(change.type, spec, value)
            if name in _HEADLINE and headline is None:
                headline = block
            else:
                texts.append(block)
        elif name == "attachments" and isinstance(value, list):
            for item in value:
                media.extend(_attached(item, by_address, thumbnails))
        elif spec.kind in (Kind.ID, Kind.ID_LIST):
            items = value if isinstance(value, list) else [value]
            details.extend(_reference(name, item, by_address) for item in items)
        elif spec.kind is Kind.URL:
            details.append(Detail(name, _plain(value), safe_href(value)))
        else:
            details.append(Detail(name, _plain(value)))
    for block in ([headline] if headline else []) + texts:
        if block.over:
            marks.append(f"{block.field} is {block.length} characters; the limit is {block.limit}")
    alt_field = ALT_TEXT.get(change.type)
    if alt_field and change.kind not in ("orphan", "delete") and not str(request.get(alt_field) or "").strip():
        marks.append(f"no alternative text: add a {alt_field} that says what the picture shows")
    return Card(
        anchor=anchor(change.key), key=change.key, address=change.address,
        folder=manifest.rsplit("/", 1)[0] if "/" in manifest else "", manifest=manifest,
        type=change.type, network=endpoint.network if endpoint else "other",
        identity=change.identity, kind=change.kind, status=status, tone=tone,
        when=when.astimezone(zone) if when else None,
        when_label=f"{when_label} {when.astimezone(zone).strftime(TIME_FORMAT)}" if when else when_label,
        in_change=change.in_change, reason=_reason(change), headline=headline, texts=tuple(texts),
        media=tuple(media), preview=_preview(preview, thumbnails) if preview else None,
        details=tuple(details), diff=tuple(_diff(change)), url=_published_url(change),
        marks=tuple(marks), source=change.source)


def _status(change: Change, now: datetime,
            scheduled: datetime | None) -> tuple[str, str, datetime | None, str]:
    """The status word, its tone, the time that matters and how it reads."""
    record = change.record
    published = record.published_at if record is not None else None
    kind = change.kind
    if kind == "create":
        word = "to publish anew" if change.replace else "to publish"
        if change.publish_at is not None and change.publish_at <= now:
            return word, "create", change.publish_at, "due now, scheduled for"
        return word, "create", None, "due now"
    if kind == "overdue":  # too late to publish by itself: a person decides
        return "overdue", "overdue", change.publish_at, "was due"
    if kind == "wait":
        if scheduled is not None:
            return "scheduled", "wait", scheduled, "scheduled for"
        return "waiting", "wait", None, "waiting"
    if kind == "unknown":
        return "outcome unknown", "unknown", record.attempted_at if record else None, "sent"
    if record is not None and record.status == "deleted":
        return "deleted", "deleted", record.deleted_at, "deleted"
    words = {"update": "to edit", "delete": "old post to delete" if change.superseded else "to delete",
             "changed": "changed, not sent", "orphan": "orphan", "noop": "published"}
    word = words[kind]
    if kind == "noop" and change.moved_from:
        word = "moved"
    if kind == "noop" and record is None:
        return "not published", "noop", None, "marked deleted"
    return word, kind, published, "published"


def _reason(change: Change) -> str | None:
    """Why the plan does what it does, unless the card's time already says it."""
    if change.kind == "wait" and change.publish_at is not None and change.reason \
            and change.reason.startswith("scheduled for"):
        return None
    return change.reason


def _text(type_name: str, spec: catalog.Field, value: str) -> TextBlock:
    limit = spec.max_length or NETWORK_LIMITS.get((type_name, spec.name))
    return TextBlock(spec.name, segments(value), len(value), limit)


def _alt(type_name: str, request: Mapping[str, Any]) -> str:
    field = ALT_TEXT.get(type_name)
    value = request.get(field) if field else None
    return value if isinstance(value, str) else ""


def _media(kind: str, url: Any, thumbnails: Mapping[str, Thumbnail], alt: str) -> Media:
    shown = _plain(url)
    local = thumbnails.get(url) if isinstance(url, str) else None
    if local is not None:
        return Media(kind, local.path, local.src, safe_href(url), alt, local.note)
    return Media(kind, shown, None, safe_href(url), alt,
                 "a remote file: linked, not loaded" if kind == "picture" else None)


def _attached(item: Any, by_address: Mapping[str, Change], thumbnails: Mapping[str, Thumbnail]) -> list[Media]:
    """What an attachment shows: the referenced upload's medium, or its id."""
    if isinstance(item, dict) and "ref" in item and item["ref"] in by_address:
        target = by_address[item["ref"]]
        endpoint = catalog.BY_TYPE.get(target.type)
        found = [(spec.media, value) for spec in (endpoint.fields if endpoint else ())
                 for value in [target.request.get(spec.name)] if spec.media and value]
        if found:
            medium, url = found[0]
            return [_media(medium or "picture", url, thumbnails, _alt(target.type, target.request))]
    label = f"{item['ref']} (known after apply)" if isinstance(item, dict) and "ref" in item else _plain(item)
    return [Media("attachment", label)]


def _reference(name: str, item: Any, by_address: Mapping[str, Change]) -> Detail:
    """A field holding an id: the referenced action by its name or title when it has one."""
    if isinstance(item, dict) and "ref" in item:
        target = by_address.get(item["ref"])
        title = next((target.request[f] for f in ("name", "title") if target is not None
                      and isinstance(target.request.get(f), str)), None)
        shown = f"{title} ({item['ref']})" if title else str(item["ref"])
        return Detail(name, shown, later=target is None or target.record is None)
    return Detail(name, _plain(item))


def _preview(fields: Mapping[str, Any], thumbnails: Mapping[str, Thumbnail]) -> LinkPreview:
    link = fields.get("link")
    picture = fields.get("picture")
    return LinkPreview(
        href=safe_href(link), label=_plain(link) if link else "", site=domain(link) if isinstance(link, str) else "",
        title=fields.get("title") if isinstance(fields.get("title"), str) else None,
        description=fields.get("description") if isinstance(fields.get("description"), str) else None,
        picture=_media("picture", picture, thumbnails, "") if picture else None)


def _diff(change: Change) -> list[Diff]:
    return [Diff(d.field, "(none)" if d.old is None else _plain(d.old),
                 "(none)" if d.new is None else _plain(d.new)) for d in change.diff]


def _published_url(change: Change) -> str | None:
    record = change.record
    if record is None or record.status != "published":
        return None
    for key in sorted(k for k in record.result if k.endswith("_location")):
        href = safe_href(record.result[key])
        if href:
            return href
    return None


def _plain(value: Any) -> str:
    """Any request value as one line of text; a reference as its address."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"ref"}:
        return f"{value['ref']} (known after apply)"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    return json.dumps(value, ensure_ascii=False)
