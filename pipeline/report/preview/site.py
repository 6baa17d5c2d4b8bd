"""The preview as a static site: which pages there are, and each rendered with Jinja2.

Pages stay small: the cards of one folder of ``content/`` per page (split past
``PAGE_CARDS``), one page per month and per week of the calendar, and an index. Each
page embeds at most ``PAGE_IMAGE_BYTES`` of pictures; past that, a picture is a link.

The templates are the package's own, rendered by a plain autoescaping environment:
manifests only ever reach them as values, never as templates. Every page carries a
Content-Security-Policy that allows nothing but the shipped style sheet and embedded
pictures: no script, no frame, no remote load, no inline style. This module yields
the files' contents; writing them is the caller's business.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Iterator, Mapping
from zoneinfo import ZoneInfo

from pipeline import __version__
from pipeline.load.thumbnails import Thumbnail
from pipeline.model.plan import CHANGE_KINDS, Plan
from pipeline.report.preview import calendar, cards
from pipeline.report.preview.display import TIME_FORMAT, Card
from pipeline.report.preview.ics import ics
from pipeline.report.text import KIND_WORDS

if TYPE_CHECKING:
    import jinja2

#: The policy of every page. ``style-src 'self'`` admits the shipped preview.css only.
CSP = ("default-src 'none'; img-src data:; style-src 'self'; base-uri 'none'; "
       "form-action 'none'")
PAGE_CARDS = 100
PAGE_IMAGE_BYTES = 4 * 1024 * 1024
#: Cards of the pull request's own changes shown on the index before "and N more".
INDEX_CARDS = 100
STYLE_SHEET = "preview.css"
CALENDAR_FILE = "calendar.ics"
INDEX = "index.html"
_OVER_BUDGET = "not embedded: this page holds enough pictures already"


@dataclass(frozen=True, slots=True)
class CardsPage:
    """One page of cards: a folder, or a part of a large one."""

    name: str
    folder: str
    part: int
    parts: int
    cards: tuple[Card, ...]


@cache
def environment() -> jinja2.Environment:
    """The package's templates, every value escaped."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("pipeline.report.preview", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        auto_reload=False)


def style_sheet() -> str:
    return resources.files("pipeline.report.preview").joinpath("static", STYLE_SHEET).read_text("utf-8")


def render(plan: Plan, *, zone: ZoneInfo, thumbnails: Mapping[str, Thumbnail], site: str,
           sandbox: bool = False) -> Iterator[tuple[str, str]]:
    """Every file of the preview, with its path in the site, one at a time (the pages of
    thirty thousand actions weigh tens of megabytes: none is kept once written)."""
    now = plan.created_at.astimezone(zone)
    all_cards = cards.build(plan, zone, thumbnails)
    pages = paginate(all_cards)
    where = {card.key: page.name for page in pages for card in page.cards}
    found = calendar.events(all_cards, now)
    months, weeks = calendar.months(found), calendar.weeks(found)
    env = environment()
    common = {"site": site, "zone": zone.key, "now": now, "generated": now.strftime(TIME_FORMAT),
              "csp": CSP, "version": __version__, "sandbox": sandbox, "where": where,
              "first_month": _first_month(months, now)}
    yield STYLE_SHEET, style_sheet()
    yield CALENDAR_FILE, ics(found, name=f"{site} posts", now=plan.created_at)
    changed = [c for c in all_cards if c.in_change]
    counts = [(KIND_WORDS[k], plan.count(k), k) for k in CHANGE_KINDS if plan.count(k)]
    folders: dict[str, list[CardsPage]] = {}
    for page in pages:
        folders.setdefault(page.folder, []).append(page)
    yield INDEX, env.get_template("index.html.j2").render(
        common, root="", plan=plan, counts=counts, changed=_budget(changed[:INDEX_CARDS]),
        changed_more=max(0, len(changed) - INDEX_CARDS), marked=[c for c in all_cards if c.marks],
        folders=folders, months=months, total=len(all_cards))
    page_template = env.get_template("cards.html.j2")
    for page in pages:
        yield f"cards/{page.name}.html", page_template.render(
            common, root="../", page=page, siblings=folders[page.folder])
    month_template, week_template = env.get_template("month.html.j2"), env.get_template("week.html.j2")
    for month in months:
        yield f"calendar/{month.key}.html", month_template.render(common, root="../", month=month)
    for week in weeks:
        yield f"calendar/{week.key}.html", week_template.render(common, root="../", week=week)


def paginate(all_cards: list[Card]) -> list[CardsPage]:
    """The cards by folder, at most ``PAGE_CARDS`` a page; the pull request's own first,
    then by manifest, in plan order within one."""
    by_folder: dict[str, list[Card]] = {}
    for card in all_cards:
        by_folder.setdefault(card.folder, []).append(card)
    names = _page_names(sorted(by_folder))
    pages: list[CardsPage] = []
    for folder in sorted(by_folder):
        ordered = sorted(by_folder[folder], key=lambda c: (not c.in_change, c.manifest))
        chunks = [ordered[i:i + PAGE_CARDS] for i in range(0, len(ordered), PAGE_CARDS)]
        for part, chunk in enumerate(chunks, 1):
            name = names[folder] + (f"-{part}" if part > 1 else "")
            pages.append(CardsPage(name, folder, part, len(chunks), _budget(chunk)))
    return pages


def _page_names(folders: list[str]) -> dict[str, str]:
    """A file name for each folder: its path in lower-case words, unique."""
    slugs = {f: re.sub(r"[^a-z0-9]+", "-", f.lower()).strip("-") or "content" for f in folders}
    taken: dict[str, int] = {}
    for slug in slugs.values():
        taken[slug] = taken.get(slug, 0) + 1
    return {f: slug if taken[slug] == 1 and (slug == f.replace("/", "-") or not f)
            else f"{slug}-{hashlib.sha256(f.encode('utf-8', 'replace')).hexdigest()[:8]}"
            for f, slug in slugs.items()}


def _budget(chunk: list[Card]) -> tuple[Card, ...]:
    """The cards with embedded pictures past the page's budget turned into links."""
    used = 0
    out: list[Card] = []
    for card in chunk:
        media = list(card.media)
        for i, medium in enumerate(media):
            used += len(medium.src or "")
            if medium.src and used > PAGE_IMAGE_BYTES:
                media[i] = replace(medium, src=None, note=_OVER_BUDGET)
        preview = card.preview
        if preview and preview.picture and preview.picture.src:
            used += len(preview.picture.src)
            if used > PAGE_IMAGE_BYTES:
                preview = replace(preview, picture=replace(preview.picture, src=None, note=_OVER_BUDGET))
        changed = media != list(card.media) or preview is not card.preview
        out.append(replace(card, media=tuple(media), preview=preview) if changed else card)
    return tuple(out)


def _first_month(months: list[calendar.Month], now: datetime) -> str | None:
    """The month the calendar link opens: this month's, else the next one with events."""
    if not months:
        return None
    this = calendar.month_key(now.date())
    return next((m.key for m in months if m.key >= this), months[-1].key)
