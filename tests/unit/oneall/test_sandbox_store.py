"""The sandbox's memory: lookups by id and by a tweet's text answer as a full scan would,
through deletes, edits made elsewhere and a restart from the db (they go through indexes,
so that a push costs the same with thousands of objects as with a few)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from pipeline.oneall.sandbox import Sandbox

from .sandbox_api import KEYS, OTHER_FACEBOOK, TOKENS, Api, status

TWEET = f"/push/identities/{TOKENS['twitter']}/twitter/post.json"


def tweet(api: Api, text: str, token: str = TOKENS["twitter"]) -> int:
    """The code the sandbox answers to a tweet of ``text``."""
    answer = api.call("POST", f"/push/identities/{token}/twitter/post.json",
                      {"request": {"push": {"post": {"message": text}}}})
    return int(status(answer)["code"])


def test_a_duplicate_tweet_is_refused_among_many_and_only_for_its_own_account(serve: Callable[..., Api]) -> None:
    api = serve()
    api.box.add_identity(OTHER_FACEBOOK.replace("5", "6", 1), "twitter", "other-twitter")
    for n in range(300):
        assert tweet(api, f"Update {n}") == 200
    assert tweet(api, "Update 150") == 409
    assert tweet(api, "Update 150", OTHER_FACEBOOK.replace("5", "6", 1)) == 200  # another account's timeline
    assert tweet(api, "Update 300") == 200


def test_a_deleted_or_edited_tweet_frees_its_text_and_an_edit_takes_the_new_one(api: Api) -> None:
    gone = api.push("twitter.post", {"message": "Gone soon"})
    changed = api.push("twitter.post", {"message": "Said first"})
    assert api.delete("twitter.post", {}, gone).status_code == 200
    api.box.edit_elsewhere(changed["post_id"], {"message": "Said later"})
    assert tweet(api, "Gone soon") == 200
    assert tweet(api, "Said first") == 200
    assert tweet(api, "Said later") == 409


def test_duplicates_edits_and_deletes_are_known_again_after_a_restart(tmp_path: Path,
                                                                     serve: Callable[..., Api]) -> None:
    db = tmp_path / "db.jsonl"
    first = serve(db_path=db)
    kept = first.push("twitter.post", {"message": "Kept"})
    gone = first.push("twitter.post", {"message": "Gone"})
    moved = first.push("twitter.post", {"message": "Before"})
    first.delete("twitter.post", {}, gone)
    first.box.edit_elsewhere(moved["post_id"], {"message": "After"})
    again = Sandbox(*KEYS, db_path=db)
    again.add_identity(TOKENS["twitter"], "twitter", "acme-twitter")
    assert [o["fields"]["message"] for o in again.published("twitter.post")] == ["Kept", "After"]
    second = serve(db_path=db)
    assert [tweet(second, text) for text in ("Kept", "Gone", "Before", "After")] == [409, 200, 200, 409]
    assert second.delete("twitter.post", {}, kept).status_code == 200
    assert second.delete("twitter.post", {}, kept).status_code == 404  # deleted is deleted


def test_updates_find_their_object_by_id_among_many_and_never_another_accounts(api: Api) -> None:
    page = {"page": "111", "message": "Post"}
    posts = [api.push("facebook.page.post", {**page, "message": f"Post {n}"}) for n in range(50)]
    target = posts[17]
    answer = api.put("facebook.page.post", {**page, "message": "Edited"}, target)
    assert answer.status_code == 200 and answer.json()["response"]["result"]["data"] == target
    assert [o["fields"]["message"] for o in api.box.published("facebook.page.post")].count("Edited") == 1
    assert api.put("facebook.page.post", page, target, token=OTHER_FACEBOOK).status_code == 404
    assert api.delete("facebook.page.post", {**page, "page": "222"}, target).status_code == 404  # not on that page
    assert api.delete("facebook.page.post", page, target).status_code == 200
    assert api.put("facebook.page.post", page, target).status_code == 404
    assert api.box.published("facebook.page.post")[17]["result"] == posts[18]


def test_references_and_admin_lookups_find_objects_by_id(api: Api) -> None:
    pictures = [api.push("twitter.picture", {"url": f"https://cdn.example/{n}.png"}) for n in range(20)]
    with_picture = api.push("twitter.post", {"message": "Look", "attachments": [pictures[7]["picture_id"]]})
    assert with_picture["post_id"]
    refused = api.call("POST", TWEET, {"request": {"push": {"post": {"message": "No", "attachments": ["12345"]}}}})
    assert status(refused)["code"] == 400
    api.box.delete_elsewhere(pictures[7]["picture_id"])
    refused = api.call("POST", TWEET, {"request": {"push": {"post": {
        "message": "Again", "attachments": [pictures[7]["picture_id"]]}}}})
    assert status(refused)["code"] == 400  # a deleted picture is unknown
