"""The preview's pure parts: text cut into links, cards from tiny plans, days in a zone,
iCalendar lines."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pipeline.load.thumbnails import Thumbnail
from pipeline.model.plan import Change, FieldDiff, Plan
from pipeline.model.state import Record
from pipeline.report.preview import calendar, cards, display, ics, site
from pipeline.report.preview.text import Segment, safe_href, segments

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
UTC = ZoneInfo("UTC")


def change(address: str, kind: str = "create", type_name: str = "twitter.post", **kw: Any) -> Change:
    kw.setdefault("request", {"message": f"hello from {address}"})
    return Change(kind=kind, address=address, type=type_name, identity="acme", **kw)  # type: ignore[arg-type]


def build(*changes: Change, zone: ZoneInfo = UTC, thumbnails: dict[str, Thumbnail] | None = None,
          ) -> dict[str, display.Card]:
    the_plan = Plan(site="sandbox", created_at=NOW, changes=changes)
    return {c.key: c for c in cards.build(the_plan, zone, thumbnails or {})}


def published(**kw: Any) -> Record:
    return Record(type="twitter.post", identity="acme", digest="d", status="published",
                  published_at=NOW - timedelta(days=2), **kw)


# ---------------------------------------------------------------- text

def test_links_hashtags_and_mentions_are_set_apart_and_the_rest_stays_text() -> None:
    assert segments("Out now! https://acme.example/shop. #Rocket @acme") == (
        Segment("text", "Out now! "), Segment("link", "https://acme.example/shop", "https://acme.example/shop"),
        Segment("text", ". "), Segment("hashtag", "#Rocket"), Segment("text", " "), Segment("mention", "@acme"))


def test_only_absolute_http_urls_become_links() -> None:
    for url in ("javascript:alert(1)", "data:text/html,<script>", "//evil.example/x", "https://",
                "https:///path", "https://a b.example", 'https://x.example/"onmouseover="x', "vbscript:x"):
        assert safe_href(url) is None, url
    assert [s.kind for s in segments("javascript:alert(1) jaVascript://%0aalert(1)")] == ["text"]
    assert safe_href("HTTPS://Acme.example:8443/a?b#c") == "HTTPS://Acme.example:8443/a?b#c"


def test_an_email_address_or_a_url_fragment_is_no_mention_or_hashtag() -> None:
    assert [s.kind for s in segments("write to team@acme.example or see page#top")] == ["text"]


# ---------------------------------------------------------------- cards

def test_a_card_counts_characters_against_the_limit_and_marks_a_broken_one() -> None:
    long_title = "x" * 101
    found = build(change("a/tweet"), change("a/film", "wait", "youtube.video", publish_at=NOW + timedelta(days=1),
                                            request={"video_url": "https://cdn.example/f.mp4", "title": long_title}))
    tweet = found["a/tweet"]
    assert (tweet.texts[0].length, tweet.texts[0].limit, tweet.marks) == (18, 140, ())
    film = found["a/film"]
    assert film.headline is not None and film.headline.over
    assert film.marks == ("title is 101 characters; the limit is 100",)


def test_a_picture_without_alternative_text_is_marked() -> None:
    found = build(change("a/pic", type_name="twitter.picture", request={"url": "https://cdn.example/p.png"}),
                  change("a/described", type_name="twitter.picture",
                         request={"url": "https://cdn.example/p.png", "description": "A rocket"}))
    assert found["a/pic"].marks == ("no alternative text: add a description that says what the picture shows",)
    assert found["a/described"].marks == ()


def test_a_repository_picture_is_embedded_and_a_remote_one_only_linked() -> None:
    local, remote = "https://media.example/media/p.png", "https://cdn.example/p.png"
    thumbs = {local: Thumbnail("media/p.png", "data:image/png;base64,AAAA")}
    found = build(change("a/pic", type_name="twitter.picture", request={"url": local, "description": "A"}),
                  change("a/remote", type_name="twitter.picture", request={"url": remote, "description": "B"}),
                  change("a/tweet", request={"message": "hi", "attachments": [{"ref": "a/pic"}]}),
                  thumbnails=thumbs)
    assert found["a/pic"].media[0].src == "data:image/png;base64,AAAA"
    assert found["a/pic"].media[0].label == "media/p.png"
    assert (found["a/remote"].media[0].src, found["a/remote"].media[0].href) == (None, remote)
    attached = found["a/tweet"].media[0]  # a tweet shows the picture it attaches, with its alt text
    assert (attached.src, attached.alt) == ("data:image/png;base64,AAAA", "A")


def test_linkedin_shows_a_link_preview_and_a_pin_its_board_by_name() -> None:
    found = build(
        change("l/post", type_name="linkedin.post", request={
            "message": "Read this", "link": "https://www.acme.example/blog", "title": "The story",
            "description": "How we built it"}),
        change("p/board", type_name="pinterest.board", request={"name": "Inspiration"}),
        change("p/pin", type_name="pinterest.pin", request={
            "board": {"ref": "p/board"}, "picture": "https://cdn.example/p.png", "description": "Red"}))
    preview = found["l/post"].preview
    assert preview is not None
    assert (preview.site, preview.title, preview.description) == ("acme.example", "The story", "How we built it")
    board = found["p/pin"].details[0]
    assert (board.label, board.value, board.later) == ("board", "Inspiration (p/board)", True)


def test_each_kind_reads_as_what_apply_would_do() -> None:
    old = published(result={"post_location": "https://twitter.com/acme/status/1"})
    found = build(
        change("a/now"),
        change("a/late", publish_at=NOW - timedelta(hours=1)),
        change("a/too-late", "overdue", publish_at=NOW - timedelta(days=2)),
        change("a/later", "wait", publish_at=NOW + timedelta(days=3)),
        change("a/edit", "update", "facebook.page.post", record=old,
               diff=(FieldDiff("message", "old words", "new words"),)),
        change("a/gone", "delete", record=old),
        change("a/same", "noop", record=old))
    assert {k: (c.status, c.tone) for k, c in found.items()} == {
        "a/now": ("to publish", "create"), "a/late": ("to publish", "create"),
        "a/too-late": ("overdue", "overdue"), "a/later": ("scheduled", "wait"),
        "a/edit": ("to edit", "update"), "a/gone": ("to delete", "delete"), "a/same": ("published", "noop")}
    assert found["a/edit"].diff[0] == display.Diff("message", "old words", "new words")
    assert found["a/same"].url == "https://twitter.com/acme/status/1"
    assert found["a/late"].when_label == "due now, scheduled for Tue 01 Dec 2026, 08:00 UTC"
    assert found["a/too-late"].when_label == "was due Sun 29 Nov 2026, 09:00 UTC"
    placed = {e.card.key: (e.state, e.at) for e in calendar.events(list(found.values()), NOW)}
    assert placed["a/too-late"] == ("overdue", NOW - timedelta(days=2))  # on the day it was due
    assert placed["a/late"] == ("pending", NOW)  # it goes out with the next apply


def test_an_upload_waiting_for_its_first_post_is_placed_at_that_post() -> None:
    found = build(change("a/pic", "wait", "twitter.picture", request={"url": "https://cdn.example/p.png"}),
                  change("a/tweet", "wait", publish_at=NOW + timedelta(days=5), depends_on=("a/pic",)))
    assert found["a/pic"].when == NOW + timedelta(days=5)


def test_a_long_chain_of_waits_takes_the_time_of_its_first_link() -> None:
    first = change("c/0", "wait", publish_at=NOW + timedelta(days=1))
    chain = [first] + [change(f"c/{i}", "wait", depends_on=(f"c/{i - 1}",)) for i in range(1, 3000)]
    times = cards.effective_times(Plan(site="s", created_at=NOW, changes=tuple(chain)))
    assert len(times) == 3000 and times["c/2999"] == NOW + timedelta(days=1)


def test_a_published_url_that_is_not_http_is_not_linked() -> None:
    found = build(change("a/x", "noop", record=published(result={"post_location": "javascript:alert(1)"})))
    assert found["a/x"].url is None


# ---------------------------------------------------------------- calendar

def test_a_post_lands_on_its_day_in_the_site_zone() -> None:
    auckland = ZoneInfo("Pacific/Auckland")
    late_utc = datetime(2030, 1, 31, 23, 30, tzinfo=timezone.utc)  # 1 February, 12:30 in Auckland
    found = build(change("a/t", "wait", publish_at=late_utc), zone=auckland)
    events = calendar.events(list(found.values()), NOW.astimezone(auckland))
    (month,) = calendar.months(events)
    busy = [d.date.isoformat() for week in month.weeks for d in week if d.events]
    assert (month.key, busy) == ("2030-02", ["2030-02-01"])
    assert month.weeks[0][0].date.isoformat() == "2030-01-28"  # weeks start on Monday
    (week,) = calendar.weeks(events)
    assert (week.key, week.days[4].date.isoformat(), len(week.days[4].events)) == ("2030-W05", "2030-02-01", 1)


def test_pending_posts_sit_on_the_plan_day_and_a_crowded_day_says_how_many_more() -> None:
    found = build(*[change(f"a/t{i}") for i in range(calendar.MONTH_CELL + 3)])
    (month,) = calendar.months(calendar.events(list(found.values()), NOW))
    (today,) = [d for week in month.weeks for d in week if d.count]
    assert (today.date, len(today.events), today.more) == (NOW.date(), calendar.MONTH_CELL, 3)


def test_a_deleted_post_and_one_never_published_are_not_on_the_calendar() -> None:
    gone = Record(type="twitter.post", identity="acme", digest="d", status="deleted", deleted_at=NOW)
    found = build(change("a/gone", "noop", record=gone), change("a/never", "noop"))
    assert calendar.events(list(found.values()), NOW) == []


# ---------------------------------------------------------------- iCalendar

def test_icalendar_escapes_text_and_folds_long_lines_at_75_octets() -> None:
    message = "Ünïcödé; with, commas\\ and\nnew lines " + "é" * 80 + "\r\nBEGIN:VEVENT"
    found = build(change("a/t", "wait", publish_at=datetime(2030, 2, 1, 12, 30, tzinfo=ZoneInfo("Pacific/Auckland")),
                         request={"message": message}))
    text = ics.ics(calendar.events(list(found.values()), NOW), name="acme, posts", now=NOW)
    assert text.endswith("END:VCALENDAR\r\n") and "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    unfolded = text.replace("\r\n ", "")
    lines = unfolded.split("\r\n")
    assert "DTSTART:20300131T233000Z" in lines and "X-WR-CALNAME:acme\\, posts" in lines
    assert lines.count("BEGIN:VEVENT") == 1  # the message's own "BEGIN:VEVENT" stays inside its value
    assert "Ünïcödé\\; with\\, commas\\\\ and\\nnew lines" in unfolded


@pytest.mark.parametrize("line", ["x" * 200, "é" * 100, "a" + "€" * 60])
def test_folding_never_splits_a_character(line: str) -> None:
    folded = ics.fold(line)
    assert folded.replace("\r\n ", "") == line
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))


# ---------------------------------------------------------------- site

def test_pages_hold_a_folder_each_and_split_when_large() -> None:
    many = [change(f"posts/2026/m{i:03d}/t") for i in range(site.PAGE_CARDS + 5)]
    own = change("posts/2026/m999/t", in_change=True)
    found = cards.build(Plan(site="s", created_at=NOW, changes=(*many, own, change("x/t"))), UTC, {})
    pages = site.paginate(found)
    assert [(p.folder, p.name, len(p.cards)) for p in pages] == [
        ("", "content", 1), ("posts/2026", "posts-2026", 100), ("posts/2026", "posts-2026-2", 6)]
    assert pages[1].cards[0].key == "posts/2026/m999/t"  # the pull request's own first


def test_every_page_carries_the_policy_and_no_script() -> None:
    found = Plan(site="s", created_at=NOW, changes=(change("a/t", "wait", publish_at=NOW + timedelta(days=1)),))
    files = dict(site.render(found, zone=UTC, thumbnails={}, site="acme"))
    assert set(files) == {"preview.css", "calendar.ics", "index.html", "cards/content.html", "calendar/2026-12.html",
                          "calendar/2026-W49.html"}
    for name, text in files.items():
        if name.endswith(".html"):
            assert f'<meta http-equiv="Content-Security-Policy" content="{site.CSP}">' in text.replace("&#39;", "'")
            assert "<script" not in text and " style=" not in text


def test_folders_whose_names_look_alike_get_pages_of_their_own() -> None:
    names = site._page_names(["", "posts", "A b", "a-b", "a/b"])
    assert names["posts"] == "posts" and names[""] == "content"
    assert len(set(names.values())) == 5


def test_the_templates_and_the_style_sheet_are_installed_with_the_package() -> None:
    import fnmatch
    import tomllib
    from pathlib import Path

    from tests.helpers import REPO

    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "pipeline.report.preview"]
    folder = Path(site.__file__).parent
    shipped = [p.relative_to(folder).as_posix() for p in folder.rglob("*")
               if p.is_file() and p.suffix not in (".py", ".pyc")]
    assert shipped and all(any(fnmatch.fnmatch(f, g) for g in globs) for f in shipped), shipped
