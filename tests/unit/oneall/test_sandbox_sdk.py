"""What OneAll's PHP SDK sends (reference §8) is accepted; ids that are not strings are not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .sandbox_api import PICTURE, TOKENS, Api, status


def post(api: Api, network: str, path: str, node: dict[str, Any]) -> Any:
    """POST a hand-written body with no Content-Type, as one of the SDK's transports does."""
    raw = json.dumps({"request": {"push": node}}).encode()
    return api.call("POST", f"/push/identities/{TOKENS[network]}/{path}", raw=raw)


def test_a_body_without_content_type_is_read_as_json(api: Api) -> None:
    answer = post(api, "twitter", "twitter/post.json", {"post": {"message": "no header"}})
    assert answer.status_code == 200, answer.text
    assert "Content-Type" not in answer.request.headers


def test_empty_attachments_and_an_empty_link_mean_none(api: Api) -> None:
    answer = post(api, "facebook", "facebook/post.json",
                  {"post": {"message": "plain", "link": "", "attachments": []}})
    assert answer.status_code == 200, answer.text
    tweet = post(api, "twitter", "twitter/post.json", {"post": {"message": "bare", "attachments": []}})
    assert tweet.status_code == 200, tweet.text
    (entry,) = api.listed("facebook.post", {})
    assert "link" not in entry and entry["attachments"] == []


def test_an_empty_link_with_attachments_is_not_both(api: Api) -> None:
    picture = api.push("facebook.picture", {"url": PICTURE})["picture_id"]
    answer = post(api, "facebook", "facebook/post.json", {"post": {"message": "m", "link": "", "attachments": [picture]}})
    assert answer.status_code == 200, answer.text
    both = post(api, "facebook", "facebook/post.json",
                {"post": {"message": "m", "link": "https://acme.example", "attachments": [picture]}})
    assert status(both) == {"flag": "error", "code": 400, "info": "Give link or attachments, not both"}


def test_a_put_with_an_empty_link_removes_the_link(api: Api) -> None:
    values = {"page": "111", "message": "m", "link": "https://acme.example"}
    result = api.push("facebook.page.post", values)
    body = {"request": {"update": {"post": {"message": "m", "link": "", "attachments": []}}}}
    assert api.put("facebook.page.post", values, result, body=body).status_code == 200
    (entry,) = api.listed("facebook.page.post", values)
    assert "link" not in entry


@pytest.mark.parametrize("board_of", [lambda b: b["board_id"], lambda b: "acme-pinterest/rockets"])
def test_the_older_pin_path_takes_the_board_in_the_body(api: Api, board_of: Any) -> None:
    board = api.push("pinterest.board", {"name": "Rockets"})
    answer = post(api, "pinterest", "pinterest/pin.json",
                  {"pin": {"board": board_of(board), "note": "A rocket", "image_url": PICTURE, "link": ""}})
    assert answer.status_code == 200, answer.text
    (entry,) = api.listed("pinterest.pin", {"board": board["board_id"]})
    assert (entry["description"], entry["picture"]) == ("A rocket", PICTURE)
    assert entry["pin_id"] == answer.json()["response"]["result"]["data"]["pin_id"]


def test_the_older_pin_path_refuses_an_unknown_or_missing_board(api: Api) -> None:
    unknown = post(api, "pinterest", "pinterest/pin.json", {"pin": {"board": "nobody/nothing", "picture": PICTURE}})
    missing = post(api, "pinterest", "pinterest/pin.json", {"pin": {"picture": PICTURE}})
    assert (status(unknown)["code"], status(missing)["code"]) == (404, 400)


@pytest.mark.parametrize(("network", "path", "node", "info"), [
    ("facebook", "facebook/page/post.json", {"page": {"id": 111, "message": "m"}},
     "Invalid page.id: must be an id, as a string"),
    ("twitter", "twitter/post.json", {"post": {"message": "m", "attachments": [910891858989060096]}},
     "Invalid post.attachments: must be a list of ids, each a string"),
    ("youtube", "youtube/channel/section.json", {"channel": {"section": {"playlists": [1]}}},
     "Invalid channel.section.playlists: must be a list of ids, each a string"),
])
def test_a_number_where_an_id_belongs_is_400(api: Api, network: str, path: str, node: dict[str, Any],
                                             info: str) -> None:
    answer = post(api, network, path, node)
    assert status(answer) == {"flag": "error", "code": 400, "info": info}


def test_a_playlist_item_with_a_numeric_video_id_is_400(api: Api) -> None:
    playlist = api.push("youtube.playlist", {"title": "Launch"})["playlist_id"]
    answer = post(api, "youtube", f"youtube/playlist/{playlist}/video.json", {"video": {"video_id": 12345}})
    assert status(answer)["info"] == "Invalid video.video_id: must be an id, as a string"


def test_a_video_goes_alone_in_a_tweet(api: Api) -> None:
    video = api.push("twitter.video", {"video_url": "https://cdn.example/v.mp4"})["video_id"]
    picture = api.push("twitter.picture", {"url": PICTURE})["picture_id"]
    mixed = post(api, "twitter", "twitter/post.json", {"post": {"message": "m", "attachments": [video, picture]}})
    assert status(mixed)["info"] == "Invalid post.attachments: a twitter.video goes alone"
    alone = post(api, "twitter", "twitter/post.json", {"post": {"message": "m", "attachments": [video]}})
    assert alone.status_code == 200, alone.text
