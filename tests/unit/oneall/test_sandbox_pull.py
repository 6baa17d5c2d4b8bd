"""The sandbox's Pull API (reference §7): OneAll's list shapes, pagination, entries, clock."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable

import pytest

from .sandbox_api import TOKENS, Api, collection, status

TWEETS = f"/pull/identities/{TOKENS['twitter']}/twitter/tweets.json"


def tweet(api: Api, *messages: str) -> list[dict[str, str]]:
    return [api.push("twitter.post", {"message": m}) for m in messages]


def test_a_listing_sits_under_its_collection_with_oneall_pagination(api: Api) -> None:
    posted = tweet(api, "one", "two", "three")
    data = api.pull(TWEETS)
    assert list(data) == ["tweets"]
    assert data["tweets"]["pagination"] == {
        "current_page": 1, "total_pages": 1, "entries_per_page": 250, "total_entries": 3,
        "order": {"field": "date_creation", "direction": "asc"}}
    assert data["tweets"]["count"] == 3
    assert [e["post_id"] for e in data["tweets"]["entries"]] == [p["post_id"] for p in posted]  # oldest first


def test_pages_are_cut_by_entries_per_page_and_ordered_by_order_direction(api: Api) -> None:
    tweet(api, *(f"tweet {n}" for n in range(5)))
    page = collection(api.pull(TWEETS, page=2, entries_per_page=2, order_direction="desc"))
    assert [e["text"] for e in page["entries"]] == ["tweet 2", "tweet 1"]
    assert page["count"] == 2
    assert page["pagination"] == {"current_page": 2, "total_pages": 3, "entries_per_page": 2,
                                  "total_entries": 5, "order": {"field": "date_creation", "direction": "desc"}}
    assert collection(api.pull(TWEETS, entries_per_page=10_000))["pagination"]["entries_per_page"] == 500


def test_a_page_past_the_end_counts_0_and_carries_no_entries(api: Api) -> None:
    tweet(api, "alone")
    page = collection(api.pull(TWEETS, page=2))
    assert page["count"] == 0 and "entries" not in page and page["pagination"]["total_entries"] == 1


@pytest.mark.parametrize("params", [{"page": "two"}, {"page": "0"}, {"entries_per_page": "0"},
                                    {"order_direction": "newest"}])
def test_a_page_size_or_direction_that_is_not_one_is_400(api: Api, params: dict[str, str]) -> None:
    assert status(api.call("GET", TWEETS, params=params))["code"] == 400


def test_a_tweet_entry_has_its_ids_its_text_and_a_date(api: Api) -> None:
    (posted,) = tweet(api, "Lift-off")
    (entry,) = collection(api.pull(TWEETS))["entries"]
    assert entry.keys() == {"post_id", "post_location", "text", "date"}
    assert (entry["post_id"], entry["post_location"], entry["text"]) == (
        posted["post_id"], posted["post_location"], "Lift-off")
    assert abs(parsedate_to_datetime(entry["date"]).timestamp() - time.time()) < 60


def test_the_flat_shape_has_count_and_entries_directly_under_data(serve: Callable[..., Api]) -> None:
    api = serve(pull_shape="flat")
    tweet(api, "one", "two")
    data = api.pull(TWEETS, entries_per_page=1)
    assert data.keys() == {"count", "entries"} and data["count"] == 1


def test_the_prefixed_shape_names_the_collection_after_its_network(serve: Callable[..., Api]) -> None:
    api = serve(pull_shape="prefixed")
    tweet(api, "one")
    assert list(api.pull(TWEETS)) == ["twitter_tweets"]


def test_short_entry_names_are_id_url_and_text(serve: Callable[..., Api]) -> None:
    api = serve(entry_names="short")
    (posted,) = tweet(api, "one")
    (entry,) = collection(api.pull(TWEETS))["entries"]
    assert entry.keys() == {"id", "url", "text", "date"} and entry["id"] == posted["post_id"]
    page_post = api.push("facebook.page.post", {"page": "111", "message": "hello"})
    (listed,) = api.listed("facebook.page.post", {"page": "111"})
    assert (listed["id"], listed["url"], listed["text"]) == (page_post["post_id"], page_post["post_location"], "hello")


def test_an_unknown_shape_is_refused_when_the_sandbox_is_made() -> None:
    from pipeline.oneall.sandbox import Sandbox
    with pytest.raises(ValueError):
        Sandbox("p", "k", pull_shape="deep")  # type: ignore[arg-type]


def test_rewritten_links_become_t_co_urls_and_white_space_collapses(serve: Callable[..., Api]) -> None:
    api = serve(rewrite_links=True)
    sent = "Out now:  https://acme.example/shop?x=1\n\nand http://acme.example "
    tweet(api, sent)
    (entry,) = collection(api.pull(TWEETS))["entries"]
    assert re.fullmatch(r"Out now: https://t\.co/[A-Za-z0-9]{10} and https://t\.co/[A-Za-z0-9]{10}", entry["text"])
    duplicate = api.call("POST", f"/push/identities/{TOKENS['twitter']}/twitter/post.json",
                         {"request": {"push": {"post": {"message": sent}}}})
    assert status(duplicate)["code"] == 409  # Twitter knows what was sent, not only what it shows


def test_oneall_clock_may_be_hours_off_the_local_one(serve: Callable[..., Api]) -> None:
    offset = 3 * 3600 + 17
    api = serve(clock_offset=offset)
    tweet(api, "later")
    answer = api.call("GET", TWEETS)
    envelope_date = parsedate_to_datetime(answer.json()["response"]["request"]["date"])
    header_date = parsedate_to_datetime(answer.headers["Date"])
    entry_date = parsedate_to_datetime(collection(answer.json()["response"]["result"]["data"])["entries"][0]["date"])
    ahead = datetime.now(timezone.utc).timestamp() + offset
    for when in (envelope_date, header_date, entry_date):
        assert abs(when.timestamp() - ahead) < 60
