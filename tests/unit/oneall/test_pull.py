"""Reading Pull lists (reference §7): every answer shape, entry names, texts the network rewrote."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any, Mapping

import pytest

from pipeline.catalog import BY_TYPE
from pipeline.oneall.pull import (
    Entry, IncompleteListing, listing, matches, normalise_text, parse_entry, parse_page, same_text,
)
from tests.unit.oneall.loopback import Loopback, Reply, envelope

TWEET = BY_TYPE["twitter.post"]
PIN = BY_TYPE["pinterest.pin"]
PLAYLIST = BY_TYPE["youtube.playlist"]
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def tweet(n: int, text: str = "", *, long_names: bool = False) -> dict[str, Any]:
    """Tweet ``n``, ``n`` minutes after T0, under the short or the long field names."""
    when = format_datetime(T0 + timedelta(minutes=n))
    if long_names:
        return {"post_id": n, "post_location": f"https://twitter.com/acme/status/{n}",
                "message": text or f"tweet {n}", "date_creation": when}
    return {"id": str(n), "url": f"https://twitter.com/acme/status/{n}", "text": text or f"tweet {n}",
            "date": when}


def pagination(page: int, total_pages: int, per_page: int = 2, direction: str = "desc") -> dict[str, Any]:
    return {"current_page": page, "total_pages": total_pages, "entries_per_page": per_page,
            "total_entries": total_pages * per_page, "order": {"field": "date_creation", "direction": direction}}


def entry(text: str | None = None, **fields: Any) -> Entry:
    return Entry(id="1", url=None, text=text, date=T0, fields=fields)


# ---------------------------------------------------------------- answer shapes
def test_a_nested_collection_with_pagination_is_read_and_says_whether_it_is_the_last_page() -> None:
    data = {"tweets": {"pagination": pagination(1, 2), "count": 2, "entries": [tweet(9), tweet(8)]}}
    page = parse_page(data, TWEET)
    assert [e.id for e in page.entries] == ["9", "8"] and not page.last
    assert (page.number, page.size, page.direction) == (1, 2, "desc")
    data["tweets"]["pagination"] = pagination(2, 2)
    assert parse_page(data, TWEET).last


def test_a_nested_collection_without_pagination_proves_nothing_by_itself() -> None:
    page = parse_page({"tweets": {"count": 1, "entries": [tweet(1)]}}, TWEET)
    assert len(page.entries) == 1 and not page.last and page.size is None


def test_a_count_of_0_without_entries_is_an_empty_list() -> None:
    assert parse_page({"tweets": {"count": 0}}, TWEET).entries == ()
    assert parse_page({"tweets": {"count": "0", "pagination": pagination(1, 0)}}, TWEET).last


def test_a_flat_list_under_result_data_is_read() -> None:
    page = parse_page({"count": 2, "entries": [tweet(2), tweet(1)]}, TWEET)
    assert [e.text for e in page.entries] == ["tweet 2", "tweet 1"]


def test_a_provider_prefixed_collection_name_is_read() -> None:
    page = parse_page({"provider": "twitter", "twitter_tweets": {"count": 1, "entries": [tweet(1)]}}, TWEET)
    assert page.entries[0].id == "1"


def test_of_several_lists_the_one_named_after_the_collection_is_read() -> None:
    data = {"boards": {"count": 1, "entries": [{"id": "b"}]}, "pins": {"count": 1, "entries": [{"id": "p"}]}}
    assert parse_page(data, PIN).entries[0].id == "p"


@pytest.mark.parametrize("data", [
    {},
    {"tweets": []},
    {"tweets": {"pagination": pagination(1, 1)}},  # no entries, no count
    {"tweets": {"count": 3}},  # a count but no entries
    {"tweets": {"entries": "none"}},
    {"tweets": {"entries": [1, 2]}},
    {"a": {"count": 0}, "b": {"count": 0}},
    "not an object",
])
def test_an_answer_of_no_recognisable_shape_is_an_incomplete_listing(data: Any) -> None:
    with pytest.raises(IncompleteListing):
        parse_page(data, TWEET)


# ---------------------------------------------------------------- entries
def test_an_entry_is_read_under_its_short_names() -> None:
    e = parse_entry(tweet(3), TWEET)
    assert (e.id, e.url, e.text, e.date) == ("3", "https://twitter.com/acme/status/3", "tweet 3",
                                             T0 + timedelta(minutes=3))


def test_an_entry_is_read_under_its_long_names_and_a_numeric_id_becomes_a_string() -> None:
    e = parse_entry(tweet(3, long_names=True), TWEET)
    assert (e.id, e.url, e.text, e.date) == ("3", "https://twitter.com/acme/status/3", "tweet 3",
                                             T0 + timedelta(minutes=3))
    assert e.fields["post_id"] == 3


def test_the_long_names_follow_the_endpoint_object() -> None:
    e = parse_entry({"pin_id": "77", "pin_location": "https://pinterest.com/pin/77/"}, PIN)
    assert (e.id, e.url) == ("77", "https://pinterest.com/pin/77/")


def test_dates_are_aware_whatever_zone_oneall_writes() -> None:
    assert parse_entry({"date": "Thu, 21 Sep 2017 15:56:59 +0200"}, TWEET).date == \
        datetime(2017, 9, 21, 13, 56, 59, tzinfo=timezone.utc)
    assert parse_entry({"date": "Thu, 21 Sep 2017 15:56:59 -0000"}, TWEET).date == \
        datetime(2017, 9, 21, 15, 56, 59, tzinfo=timezone.utc)
    assert parse_entry({"date": "last Tuesday"}, TWEET).date is None
    assert parse_entry({"id": True, "url": 5, "text": ["x"]}, TWEET) == \
        Entry(None, None, None, None, {"id": True, "url": 5, "text": ["x"]})


# ---------------------------------------------------------------- listing
class Script:
    """A reader answering page n with the n-th answer, recording what was asked."""

    def __init__(self, *answers: Mapping[str, Any]) -> None:
        self.answers = answers
        self.asked: list[dict[str, Any]] = []

    def pull(self, resource: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        self.asked.append({"resource": resource, **(params or {})})
        return dict(self.answers[len(self.asked) - 1])


def ids(reader: Script, since: datetime = T0, **kw: Any) -> list[str | None]:
    return [e.id for e in listing(reader, TWEET, "/pull/identities/t/twitter/tweets.json", since, **kw)]


def test_a_listing_asks_for_pages_newest_first_and_stops_at_the_last_page() -> None:
    reader = Script({"tweets": {"pagination": pagination(1, 2), "entries": [tweet(9), tweet(8)]}},
                    {"tweets": {"pagination": pagination(2, 2), "entries": [tweet(7), tweet(6)]}})
    assert ids(reader, page_size=2) == ["9", "8", "7", "6"]
    assert reader.asked == [
        {"resource": "/pull/identities/t/twitter/tweets.json", "page": n, "entries_per_page": 2,
         "order_direction": "desc"} for n in (1, 2)]


def test_a_listing_stops_at_the_first_entry_older_than_since() -> None:
    reader = Script({"tweets": {"entries": [tweet(9), tweet(8), tweet(3), tweet(2)]}})
    assert ids(reader, since=T0 + timedelta(minutes=5), page_size=4) == ["9", "8"]


def test_a_short_page_without_pagination_ends_the_listing() -> None:
    reader = Script({"tweets": {"count": 2, "entries": [tweet(9), tweet(8)]}})
    assert ids(reader, page_size=5) == ["9", "8"] and len(reader.asked) == 1


def test_a_page_is_short_against_the_size_oneall_says_it_used() -> None:
    full = {"pagination": {**pagination(1, 9, per_page=2), "total_pages": None}, "entries": [tweet(9), tweet(8)]}
    reader = Script({"tweets": full}, {"tweets": {"pagination": pagination(2, 9, per_page=2), "entries": [tweet(7)]}})
    assert ids(reader, page_size=500) == ["9", "8", "7"]


def test_an_empty_listing_is_complete() -> None:
    assert ids(Script({"tweets": {"count": 0}})) == []
    assert ids(Script({"count": 0, "entries": []})) == []


def test_a_listing_that_never_proves_its_end_is_incomplete_after_max_pages() -> None:
    reader = Script(*({"tweets": {"entries": [tweet(100 - 2 * n), tweet(99 - 2 * n)]}} for n in range(3)))
    with pytest.raises(IncompleteListing, match="too many to be sure"):
        ids(reader, page_size=2, max_pages=3)


def test_an_entry_pushed_onto_the_next_page_by_a_new_post_is_yielded_once() -> None:
    reader = Script({"tweets": {"pagination": pagination(1, 2), "entries": [tweet(9), tweet(8)]}},
                    {"tweets": {"pagination": pagination(2, 2), "entries": [tweet(8), tweet(7)]}})
    assert ids(reader, page_size=2) == ["9", "8", "7"]


@pytest.mark.parametrize(("answers", "why"), [
    # OneAll ignored ``page``: the same page again
    ([{"tweets": {"entries": [tweet(9), tweet(8)]}}] * 2, "repeats"),
    # OneAll ignored ``order_direction``: oldest first would end the listing at once
    ([{"tweets": {"entries": [tweet(1), tweet(2)]}}], "newest first"),
    ([{"tweets": {"pagination": pagination(1, 3, direction="asc"), "entries": [tweet(9), tweet(8)]}}], "newest first"),
    ([{"tweets": {"pagination": pagination(3, 3), "entries": [tweet(9), tweet(8)]}}], "got page 3"),
    ([{"tweets": {"entries": [tweet(9), tweet(8)]}}, {"nothing": "here"}], "holds no list"),
])
def test_a_listing_whose_answers_do_not_add_up_is_incomplete(answers: list[dict[str, Any]], why: str) -> None:
    with pytest.raises(IncompleteListing, match=why):
        ids(Script(*answers), page_size=2)


def test_since_must_be_aware() -> None:
    with pytest.raises(ValueError):
        ids(Script({"count": 0}), since=datetime(2024, 5, 1))


# ---------------------------------------------------------------- texts
@pytest.mark.parametrize(("sent", "online"), [
    ("Acme Rocket is out! https://acme.example/shop #launch", "Acme Rocket is out! https://t.co/AbC123xyz #launch"),
    ("See acme.example/shop now", "See https://t.co/AbC123xyz now"),
    ("Two  spaces\nand a line", "Two spaces and a line"),
    ("  padded  ", "padded"),
    ("Fish & chips", "Fish &amp; chips"),
    ("Caf\u00e9", "Cafe\u0301"),
    ("With a picture", "With a picture https://t.co/media123"),
    ("Link last https://acme.example", "Link last https://t.co/a https://t.co/pic"),
])
def test_texts_the_network_rewrote_are_the_same_text(sent: str, online: str) -> None:
    assert same_text(sent, online)


@pytest.mark.parametrize(("sent", "online"), [
    ("launch day", "launch night"),
    ("launch day", "launch day!"),
    ("https://acme.example first", "first"),
    ("", "something"),
])
def test_different_texts_are_not_the_same_text(sent: str, online: str) -> None:
    assert not same_text(sent, online)


def test_normalise_text_replaces_urls_and_collapses_white_space() -> None:
    assert normalise_text("  Go\t to http://a.example/x?y=1 and www.b.example  ") == "Go to <url> and <url>"


# ---------------------------------------------------------------- matching
def test_a_tweet_matches_on_its_rewritten_text_whatever_the_text_is_called() -> None:
    sent = {"message": "Out now https://acme.example/shop", "attachments": ["111"]}
    assert matches(TWEET, sent, parse_entry(tweet(1, "Out now https://t.co/x1"), TWEET))
    assert matches(TWEET, sent, parse_entry(tweet(1, "Out now  https://t.co/x1", long_names=True), TWEET))
    assert not matches(TWEET, sent, parse_entry(tweet(1, "Out tomorrow https://t.co/x1"), TWEET))


def test_other_scalar_fields_must_be_equal_when_the_entry_shows_them() -> None:
    sent = {"message": "hello", "location": "Paris"}
    assert matches(TWEET, sent, entry("hello"))
    assert matches(TWEET, sent, entry("hello", location="Paris"))
    assert not matches(TWEET, sent, entry("hello", location="Lyon"))


def test_fields_other_than_the_message_compare_by_name_and_scalars_exactly() -> None:
    sent = {"title": "Launch  films", "privacy_status": "unlisted"}
    assert matches(PLAYLIST, sent, entry(None, title="Launch films", privacy_status="unlisted"))
    assert not matches(PLAYLIST, sent, entry(None, title="Launch films", privacy_status="public"))


def test_media_urls_are_not_compared_because_the_network_keeps_its_own_copy() -> None:
    sent = {"picture": "https://cdn.acme.example/rocket.png", "description": "Rocket", "link": "https://acme.example"}
    online = entry(None, picture="https://i.pinimg.com/originals/ab/cd.png", description="Rocket",
                   link="https://acme.example")
    assert matches(PIN, sent, online)
    assert not matches(PIN, sent, entry(None, description="Rocket", link="https://acme.example/other"))


def test_an_entry_that_shows_none_of_the_sent_fields_matches_nothing() -> None:
    assert not matches(TWEET, {"message": "hello"}, entry(None))
    assert not matches(TWEET, {"attachments": ["1"]}, entry("anything"))


# ---------------------------------------------------------------- over the wire
def test_the_client_reads_a_listing_over_the_wire() -> None:
    first = envelope(200, {"tweets": {"pagination": pagination(1, 2), "count": 2, "entries": [tweet(9), tweet(8)]}})
    second = envelope(200, {"tweets": {"pagination": pagination(2, 2), "count": 1, "entries": [tweet(7)]}})
    with Loopback(Reply(200, first), Reply(200, second)) as stub:
        found = [e.id for e in listing(stub.client(), TWEET, "/pull/identities/t/twitter/tweets.json", T0,
                                       page_size=2)]
    assert found == ["9", "8", "7"]
    assert [(r.method, r.path, r.query) for r in stub.received] == [
        ("GET", "/pull/identities/t/twitter/tweets.json",
         {"page": [str(n)], "entries_per_page": ["2"], "order_direction": ["desc"]}) for n in (1, 2)]
