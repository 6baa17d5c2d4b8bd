"""Reading back: what an entry holds, as a manifest would say it; what differs; pacing."""

from __future__ import annotations

from typing import Any, Mapping

from pipeline.apply.readback import Paced, differences, online_request
from pipeline.catalog import BY_TYPE
from pipeline.oneall.pull import parse_entry

PAGE_POST = BY_TYPE["facebook.page.post"]
PIN = BY_TYPE["pinterest.pin"]
TWEET = BY_TYPE["twitter.post"]


def test_an_entry_is_read_as_the_manifest_names_its_fields() -> None:
    entry = parse_entry({"post_id": "9", "message": "online text", "link": "https://acme.example/"}, PAGE_POST)
    sent = {"page": "1093", "message": "sent text", "attachments": [{"ref": "p/pic"}]}
    assert online_request(PAGE_POST, entry, sent) == {
        "page": "1093", "message": "online text", "attachments": [{"ref": "p/pic"}],
        "link": "https://acme.example/"}


def test_a_short_named_entry_id_is_never_read_as_the_page() -> None:
    entry = parse_entry({"id": "9", "text": "hi"}, PAGE_POST)
    assert online_request(PAGE_POST, entry, {"page": "1093", "message": "hi"})["page"] == "1093"


def test_the_listings_own_parameter_and_references_are_kept() -> None:
    entry = parse_entry({"pin_id": "7", "description": "d2", "board": "other"}, PIN)
    sent = {"board": {"ref": "b/board"}, "description": "d1", "picture": "https://cdn.example/a.png"}
    online = online_request(PIN, entry, sent)
    assert online["board"] == {"ref": "b/board"} and online["description"] == "d2"


def test_links_rewritten_by_the_network_are_no_difference_but_a_new_text_is() -> None:
    sent = {"message": "Out now https://acme.example/shop"}
    assert differences(TWEET, sent, {"message": "Out now  https://t.co/AbCdEf1234"}) == []
    assert differences(TWEET, sent, {"message": "Sold out https://t.co/AbCdEf1234"}) == ["message"]


def test_media_urls_are_never_compared() -> None:
    sent = {"board": "1", "picture": "https://cdn.example/a.png", "description": "d"}
    assert differences(PIN, sent, {**sent, "picture": "https://i.pinimg.example/x.png"}) == []


def test_reading_back_waits_between_two_requests_of_one_account_only() -> None:
    class Reader:
        def pull(self, resource: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
            return {}

    slept: list[float] = []
    paced = Paced(Reader(), pace=10.0, sleep=slept.append)
    paced.pull("/pull/identities/a/twitter/tweets.json")
    paced.pull("/pull/identities/b/twitter/tweets.json")
    assert slept == []
    paced.pull("/pull/identities/a/twitter/tweets.json")
    assert len(slept) == 1 and 9.0 < slept[0] <= 10.0
