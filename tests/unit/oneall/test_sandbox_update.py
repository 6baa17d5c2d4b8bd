"""The sandbox's Update API (reference §6): PUT edits, DELETE deletes, Pull shows both."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from pipeline.catalog import BY_TYPE, ENDPOINTS
from pipeline.oneall.sandbox import Sandbox

from .sandbox_api import KEYS, OTHER_FACEBOOK, PICTURE, TOKENS, Api, status

PAGE_POST = {"page": "111", "message": "Lift-off at dawn", "link": "https://acme.example/a"}


def prepared(api: Api, type_name: str) -> dict[str, Any]:
    """Values that publish ``type_name``, with what they need published first."""
    if type_name == "pinterest.pin":
        board = api.push("pinterest.board", {"name": "Rockets"})["board_id"]
        return {"board": board, "picture": PICTURE, "description": "A rocket"}
    if type_name == "youtube.playlist.video":
        playlist = api.push("youtube.playlist", {"title": "Launch"})["playlist_id"]
        return {"playlist": playlist, "video_id": "dQw4w9WgXcQ"}
    return {
        "facebook.page.post": PAGE_POST,
        "facebook.page.picture": {"page": "111", "url": PICTURE},
        "facebook.page.video": {"page": "111", "url": "https://cdn.example/v.mp4"},
        "twitter.post": {"message": "Lift-off"},
        "youtube.playlist": {"title": "Launch", "privacy_status": "public"},
        "youtube.channel.section": {"section_type": "multiplePlaylists", "title": "Ours"},
    }[type_name]


EDITS = {
    "facebook.page.post": {"message": "Lift-off at noon"},
    "pinterest.pin": {"description": "A bigger rocket", "link": "https://acme.example/pin"},
    "youtube.playlist": {"title": "Launch (all)", "privacy_status": "unlisted", "default_language": "en"},
    "youtube.channel.section": {"title": "Renamed", "style": "horizontalRow", "position": 2},
}
UPDATABLE = [e.type for e in ENDPOINTS if e.update]


def test_the_update_table_has_the_eight_resources_of_the_reference() -> None:
    assert len(UPDATABLE) == 8 and set(EDITS) == {e.type for e in ENDPOINTS if e.editable}


@pytest.mark.parametrize("type_name", sorted(EDITS))
def test_an_editable_object_is_edited_in_place_and_answers_its_push_result(api: Api, type_name: str) -> None:
    values = prepared(api, type_name)
    result = api.push(type_name, values)
    edited = {**values, **EDITS[type_name]}
    answer = api.put(type_name, edited, result)
    assert answer.status_code == 200 and status(answer)["flag"] == "success", answer.text
    assert answer.json()["response"]["result"]["data"] == result  # the same ids
    endpoint = BY_TYPE[type_name]
    (stored,) = api.box.published(type_name)
    for name, value in EDITS[type_name].items():
        assert stored["fields"][endpoint.by_name[name].wire_name] == value


@pytest.mark.parametrize("type_name", UPDATABLE)
def test_every_deletable_object_is_deleted_once_and_then_unknown(api: Api, type_name: str) -> None:
    values = prepared(api, type_name)
    result = api.push(type_name, values)
    answer = api.delete(type_name, values, result)
    assert answer.status_code == 200 and status(answer)["flag"] == "success", answer.text
    assert "result" not in answer.json()["response"]
    assert api.box.published(type_name) == []
    again = api.delete(type_name, values, result)
    assert again.status_code == 404 and status(again) == {**status(again), "flag": "error", "code": 404}


def test_pull_listings_show_edits_and_leave_out_deleted_objects(api: Api) -> None:
    kept = api.push("facebook.page.post", PAGE_POST)
    gone = api.push("facebook.page.post", {**PAGE_POST, "message": "Scrubbed"})
    api.put("facebook.page.post", {**PAGE_POST, "message": "Lift-off at noon"}, kept)
    api.delete("facebook.page.post", PAGE_POST, gone)
    listed = api.listed("facebook.page.post", PAGE_POST)
    assert [(e["post_id"], e["message"]) for e in listed] == [(kept["post_id"], "Lift-off at noon")]


def test_a_put_replaces_only_the_fields_it_names(api: Api) -> None:
    result = api.push("facebook.page.post", PAGE_POST)
    body = {"request": {"update": {"post": {"message": "New words"}}}}
    assert api.put("facebook.page.post", PAGE_POST, result, body=body).status_code == 200
    (entry,) = api.listed("facebook.page.post", PAGE_POST)
    assert (entry["message"], entry["link"]) == ("New words", PAGE_POST["link"])


@pytest.mark.parametrize(("post", "info"), [
    ({"message": "x", "colour": "red"}, "Unknown field post.colour"),
    ({"message": 42}, "Invalid post.message: must be a string"),
    ({"link": "ftp://acme.example"}, "Invalid post.link: must be an absolute http(s) URL"),
    ({"link": "https://acme.example", "attachments": ["123"]}, "Give link or attachments, not both"),
    ({"id": "111"}, "Unknown field post.id"),  # the page is in the path, not in the body
])
def test_a_put_with_a_bad_body_is_400_and_changes_nothing(api: Api, post: dict[str, Any], info: str) -> None:
    result = api.push("facebook.page.post", PAGE_POST)
    answer = api.put("facebook.page.post", PAGE_POST, result, body={"request": {"update": {"post": post}}})
    assert answer.status_code == 400 and status(answer) == {"flag": "error", "code": 400, "info": info}
    assert "result" not in answer.json()["response"]
    assert api.box.published()[0]["fields"]["message"] == PAGE_POST["message"]


def test_a_playlist_put_without_its_title_is_400(api: Api) -> None:
    result = api.push("youtube.playlist", {"title": "Launch"})
    answer = api.put("youtube.playlist", {"title": "Launch"}, result,
                     body={"request": {"update": {"playlist": {"description": "no title"}}}})
    assert status(answer)["info"] == "Missing required field playlist.title"


def test_naming_a_link_in_a_put_drops_the_attachments_it_replaces(api: Api) -> None:
    picture = api.push("facebook.page.picture", {"page": "111", "url": PICTURE})["picture_id"]
    values = {"page": "111", "message": "Look", "attachments": [picture]}
    result = api.push("facebook.page.post", values)
    answer = api.put("facebook.page.post", {"page": "111", "message": "Look", "link": "https://acme.example"}, result)
    assert answer.status_code == 200, answer.text
    (entry,) = api.listed("facebook.page.post", values)
    assert entry["link"] == "https://acme.example" and "attachments" not in entry


def test_unknown_deleted_and_other_accounts_posts_are_404_to_put_and_delete(api: Api) -> None:
    theirs = api.push("facebook.page.post", PAGE_POST, token=OTHER_FACEBOOK)
    unknown = {"post_id": "111_999"}
    for result in (theirs, unknown):
        assert api.put("facebook.page.post", PAGE_POST, result).status_code == 404
        assert api.delete("facebook.page.post", PAGE_POST, result).status_code == 404
    other_page = api.put("facebook.page.post", {**PAGE_POST, "page": "222"}, theirs, token=OTHER_FACEBOOK)
    assert other_page.status_code == 404  # the page in the path is part of the name
    mine = api.push("facebook.page.post", PAGE_POST)
    api.delete("facebook.page.post", PAGE_POST, mine)
    assert api.put("facebook.page.post", PAGE_POST, mine).status_code == 404
    assert api.box.published(deleted=True)[-1]["deleted"] is True


def test_what_cannot_be_edited_answers_405_to_a_put(api: Api) -> None:
    result = api.push("twitter.post", {"message": "Fixed for ever"})
    answer = api.put("twitter.post", {"message": "x"}, result, body={"request": {"update": {"post": {"message": "x"}}}})
    assert answer.status_code == 405 and status(answer)["info"].endswith("takes DELETE requests")
    assert api.call("POST", BY_TYPE["twitter.post"].update_path(TOKENS["twitter"], {}, result)).status_code == 405


def test_a_delete_takes_no_body_and_no_query(api: Api) -> None:
    result = api.push("twitter.post", {"message": "Stays"})
    resource = BY_TYPE["twitter.post"].update_path(TOKENS["twitter"], {}, result)
    assert api.call("DELETE", resource, {"request": {}}).status_code == 400
    assert api.call("DELETE", resource, params={"force": "1"}).status_code == 400
    assert len(api.box.published("twitter.post")) == 1


def test_puts_and_deletes_are_recorded_as_received(api: Api) -> None:
    result = api.push("facebook.page.post", PAGE_POST)
    api.put("facebook.page.post", PAGE_POST, result)
    api.delete("facebook.page.post", PAGE_POST, result)
    put, delete = api.box.received[-2:]
    path = f"/update/identities/{TOKENS['facebook']}/facebook/page/111/post/{result['post_id']}.json"
    assert (put.method, put.path, put.body) == ("PUT", path, BY_TYPE["facebook.page.post"].edit_body(PAGE_POST))
    assert (delete.method, delete.path, delete.query, delete.body) == ("DELETE", path, {}, None)


def test_a_pin_put_may_move_the_pin_to_a_board_named_by_its_name(api: Api) -> None:
    values = prepared(api, "pinterest.pin")
    result = api.push("pinterest.pin", values)
    other = api.push("pinterest.board", {"name": "Launch pads"})["board_id"]
    move = {"request": {"update": {"pin": {"board": "Launch pads", "description": "Moved"}}}}
    assert api.put("pinterest.pin", values, result, body=move).status_code == 200
    assert api.listed("pinterest.pin", values) == []
    assert [e["pin_id"] for e in api.listed("pinterest.pin", {"board": other})] == [result["pin_id"]]
    nowhere = {"request": {"update": {"pin": {"board": "No such board"}}}}
    assert status(api.put("pinterest.pin", values, result, body=nowhere))["code"] == 400


def test_deleting_a_playlist_deletes_its_items(api: Api) -> None:
    values = prepared(api, "youtube.playlist.video")
    item = api.push("youtube.playlist.video", values)
    playlist = {"playlist_id": values["playlist"]}
    assert api.delete("youtube.playlist", {}, playlist).status_code == 200
    assert api.delete("youtube.playlist.video", values, item).status_code == 404
    assert api.listed("youtube.playlist.video", values) == []


def test_edits_and_deletes_survive_a_restart(tmp_path: Path, serve: Callable[..., Api]) -> None:
    db = tmp_path / "db.jsonl"
    api = serve(db_path=db)
    edited = api.push("facebook.page.post", PAGE_POST)
    gone = api.push("facebook.page.post", {**PAGE_POST, "message": "Scrubbed"})
    api.put("facebook.page.post", {**PAGE_POST, "message": "Edited"}, edited)
    api.delete("facebook.page.post", PAGE_POST, gone)
    again = Sandbox(*KEYS, db_path=db)
    assert [o["fields"]["message"] for o in again.published()] == ["Edited"]
    assert [o["deleted"] for o in again.published(deleted=True) if o.get("deleted")] == [True]


def test_changes_made_elsewhere_show_in_pull_listings_as_drift(api: Api) -> None:
    first = api.push("facebook.page.post", PAGE_POST)
    second = api.push("facebook.page.post", {**PAGE_POST, "message": "Second"})
    api.box.edit_elsewhere(first["post_id"], {"message": "Changed by hand", "link": None})
    api.box.delete_elsewhere(second["post_id"], type_name="facebook.page.post")
    (entry,) = api.listed("facebook.page.post", PAGE_POST)
    assert entry["message"] == "Changed by hand" and "link" not in entry
    assert api.delete("facebook.page.post", PAGE_POST, second).status_code == 404
    with pytest.raises(KeyError):
        api.box.delete_elsewhere(second["post_id"])
