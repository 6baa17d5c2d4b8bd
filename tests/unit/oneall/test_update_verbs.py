"""Editing and deleting through the Update API (reference §6): paths, bodies, answers."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest

from pipeline.catalog import BY_TYPE
from pipeline.errors import ApiError, OutcomeUnknownError
from pipeline.oneall.client import OneAllClient
from tests.helpers import TOKENS
from tests.unit.oneall.loopback import GATEWAY_PAGE, FAST_RETRY, Loopback, Reply, envelope

FACEBOOK = TOKENS["acme-facebook"][1]
TWITTER = TOKENS["acme-twitter"][1]
YOUTUBE = TOKENS["acme-youtube"][1]
PAGE_POST = BY_TYPE["facebook.page.post"]
PAGE_VALUES = {"page": "1234", "message": "Hello again", "link": "https://acme.example/shop"}
PAGE_RESULT = {"post_id": "1234_5678", "post_location": "https://facebook.com/1234_5678"}
DELETED = envelope(200)  # a DELETE answers no result [contract, §6]


def edit(client: OneAllClient) -> Any:
    return client.edit(PAGE_POST, FACEBOOK, PAGE_VALUES, PAGE_RESULT)


def delete(client: OneAllClient) -> Any:
    return client.delete(PAGE_POST, FACEBOOK, PAGE_VALUES, PAGE_RESULT)


def test_edit_puts_the_editable_fields_to_the_update_path_and_returns_result_data() -> None:
    data = {"provider": "facebook", "object": "post", "post_id": "1234_5678"}
    with Loopback(Reply(200, envelope(200, data))) as stub:
        assert edit(stub.client()) == data
    sent = stub.received[0]
    assert (sent.method, sent.path) == ("PUT", f"/update/identities/{FACEBOOK}/facebook/page/1234/post/1234_5678.json")
    assert json.loads(sent.body) == {"request": {"update": {"post": {
        "message": "Hello again", "link": "https://acme.example/shop"}}}}
    assert sent.headers["Content-Type"] == "application/json"


def test_edit_of_a_channel_section_nests_its_body_under_channel_and_section() -> None:
    section = BY_TYPE["youtube.channel.section"]
    values = {"section_type": "multiplePlaylists", "title": "Launch", "position": 2, "playlists": ["PL1"]}
    with Loopback(Reply(200, envelope(200))) as stub:
        stub.client().edit(section, YOUTUBE, values, {"section_id": "UCx.abc"})
    sent = stub.received[0]
    assert sent.path == f"/update/identities/{YOUTUBE}/youtube/channel/section/UCx.abc.json"
    assert json.loads(sent.body) == {"request": {"update": {"channel": {"section": {
        "type": "multiplePlaylists", "title": "Launch", "position": 2, "playlists": ["PL1"]}}}}}


def test_an_edit_whose_success_carries_no_result_returns_an_empty_dict() -> None:
    with Loopback(Reply(200, envelope(200))) as stub:
        assert edit(stub.client()) == {}


def test_delete_sends_no_body_and_no_query_to_the_update_path() -> None:
    with Loopback(Reply(200, DELETED)) as stub:
        stub.client().delete(BY_TYPE["twitter.post"], TWITTER, {"message": "gone"},
                             {"post_id": "910891858989060096"})
    sent = stub.received[0]
    assert (sent.method, sent.path) == ("DELETE", f"/update/identities/{TWITTER}/twitter/post/910891858989060096.json")
    assert sent.body == b"" and sent.query == {}


def test_delete_of_a_playlist_item_takes_the_playlist_from_the_values_and_the_video_from_the_result() -> None:
    with Loopback(Reply(200, DELETED)) as stub:
        stub.client().delete(BY_TYPE["youtube.playlist.video"], YOUTUBE, {"playlist": "PL9", "video_id": "v1"},
                             {"playlist_id": "PL9", "video_id": "v1"})
    assert stub.received[0].path == f"/update/identities/{YOUTUBE}/youtube/playlist/PL9/video/v1.json"


def test_ids_are_escaped_in_update_paths() -> None:
    with Loopback(Reply(200, DELETED)) as stub:
        stub.client().delete(BY_TYPE["twitter.post"], TWITTER, {}, {"post_id": "1/../2"})
    assert stub.received[0].path == f"/update/identities/{TWITTER}/twitter/post/1%2F..%2F2.json"


def test_a_delete_answered_404_is_an_api_error_404_for_the_caller_to_read_as_already_gone() -> None:
    with Loopback(Reply(404, envelope(404, info="Unknown post"))) as stub:
        with pytest.raises(ApiError) as err:
            delete(stub.client())
    assert (err.value.code, err.value.info) == (404, "Unknown post")
    assert len(stub.received) == 1


@pytest.mark.parametrize("verb", [edit, delete])
def test_an_edit_or_a_delete_is_retried_after_a_503_in_oneall_envelope(verb: Callable[[OneAllClient], Any]) -> None:
    with Loopback(Reply(503, envelope(503)), Reply(200, envelope(200))) as stub:
        verb(stub.client())
    assert len(stub.received) == 2


@pytest.mark.parametrize("verb", [edit, delete])
@pytest.mark.parametrize("reply", [
    Reply(502, GATEWAY_PAGE),
    Reply(500, envelope(500)),
    Reply(302, b"", {"Location": "/update/elsewhere.json"}),
    Reply(200, envelope(200)[:30], length=len(envelope(200))),
], ids=["gateway page", "500", "redirect", "cut short"])
def test_an_edit_or_a_delete_without_proof_either_way_is_unknown_and_not_resent(
        verb: Callable[[OneAllClient], Any], reply: Reply) -> None:
    with Loopback(reply, Reply(200, envelope(200))) as stub:
        with pytest.raises(OutcomeUnknownError):
            verb(stub.client())
    assert len(stub.received) == 1


@pytest.mark.parametrize("verb", [edit, delete])
def test_an_edit_or_a_delete_refused_by_oneall_is_an_api_error(verb: Callable[[OneAllClient], Any]) -> None:
    with Loopback(Reply(403, envelope(403, info="Missing permission"))) as stub:
        with pytest.raises(ApiError) as err:
            verb(stub.client())
    assert err.value.code == 403 and len(stub.received) == 1
    assert FAST_RETRY.attempts > 1  # so a single request above means "not retried"
