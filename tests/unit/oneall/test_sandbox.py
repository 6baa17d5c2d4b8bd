"""The embedded sandbox: true to the API reference, over a real loopback socket."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from pipeline.catalog import BY_TYPE
from pipeline.errors import ApiError
from pipeline.oneall.client import Credentials, OneAllClient
from pipeline.oneall.sandbox import Sandbox, SandboxServer
from tests.helpers import PRIVATE_KEY, PUBLIC_KEY, TOKENS

PIN = TOKENS["acme-pinterest"][1]
YT = TOKENS["acme-youtube"][1]
FB = TOKENS["acme-facebook"][1]
LI = TOKENS["acme-linkedin"][1]


def entries(data: dict) -> list[dict]:
    """The entries of a Pull answer's one collection node (§7)."""
    (collection,) = data.values()
    return collection.get("entries", [])


@pytest.fixture
def client(sandbox: SandboxServer) -> OneAllClient:
    return OneAllClient(sandbox.url, Credentials(PUBLIC_KEY, PRIVATE_KEY))


def test_unknown_board_and_playlist_are_404(client: OneAllClient) -> None:
    with pytest.raises(ApiError) as err:
        client.push(BY_TYPE["pinterest.pin"], PIN, {"board": "123", "picture": "https://x.example/p.png"})
    assert err.value.code == 404 and "Unknown board '123'" in err.value.info
    with pytest.raises(ApiError) as err:
        client.push(BY_TYPE["youtube.playlist.video"], YT, {"playlist": "PLx", "video_id": "abc"})
    assert err.value.code == 404


def test_a_board_of_another_account_is_unknown(client: OneAllClient, sandbox: SandboxServer) -> None:
    other = "6a2b3c4d-1749-4cc1-988f-d6963f3b1baa"
    sandbox.sandbox.add_identity(other, "pinterest", "someone-else")
    board = client.push(BY_TYPE["pinterest.board"], other, {"name": "Theirs"})["board_id"]
    with pytest.raises(ApiError) as err:
        client.push(BY_TYPE["pinterest.pin"], PIN, {"board": board, "picture": "https://x.example/p.png"})
    assert err.value.code == 404


def test_boards_pins_playlists_and_videos_are_listed_by_the_pull_api(client: OneAllClient) -> None:
    board = client.push(BY_TYPE["pinterest.board"], PIN, {"name": "Rockets"})
    pin = client.push(BY_TYPE["pinterest.pin"], PIN, {"board": board["board_id"], "picture": "https://x.example/p.png"})
    boards = client.pull(f"/pull/identities/{PIN}/pinterest/boards.json")
    assert list(boards) == ["boards"]
    assert [(e["board_id"], e["name"]) for e in entries(boards)] == [(board["board_id"], "Rockets")]
    pins = client.pull(f"/pull/identities/{PIN}/pinterest/board/{board['board_id']}/pins.json")
    assert [e["pin_id"] for e in entries(pins)] == [pin["pin_id"]]

    playlist = client.push(BY_TYPE["youtube.playlist"], YT, {"title": "Launch", "privacy_status": "unlisted"})
    video = client.push(BY_TYPE["youtube.video"], YT, {"video_url": "https://x.example/v.mp4", "title": "Film"})
    item = client.push(BY_TYPE["youtube.playlist.video"], YT,
                       {"playlist": playlist["playlist_id"], "video_id": video["video_id"]})
    assert item == {"provider": "youtube", "object": "video", "playlist_id": playlist["playlist_id"],
                    "video_id": video["video_id"]}
    assert len(video["video_id"]) == 11 and video["video_location"].endswith(video["video_id"])
    listed = client.pull(f"/pull/identities/{YT}/youtube/playlist/{playlist['playlist_id']}/videos.json")
    assert [e["video_id"] for e in entries(listed)] == [video["video_id"]]
    assert entries(client.pull(f"/pull/identities/{YT}/youtube/playlists.json"))[0]["privacy_status"] == "unlisted"


def test_page_group_user_and_company_posts_are_listed_apart(client: OneAllClient) -> None:
    client.push(BY_TYPE["facebook.page.post"], FB, {"page": "111", "message": "on the page"})
    client.push(BY_TYPE["facebook.group.post"], FB, {"group": "222", "message": "in the group"})
    mine = client.push(BY_TYPE["facebook.post"], FB, {"message": "on my timeline"})
    client.push(BY_TYPE["linkedin.company.post"], LI, {"company": "333", "message": "company news"})
    page = entries(client.pull(f"/pull/identities/{FB}/facebook/page/111/posts.json"))
    assert [e["message"] for e in page] == ["on the page"] and "id" not in page[0]
    assert page[0]["post_id"].startswith("111_")
    assert [e["message"] for e in entries(client.pull(f"/pull/identities/{FB}/facebook/group/222/posts.json"))] == ["in the group"]
    assert [e["post_id"] for e in entries(client.pull(f"/pull/identities/{FB}/facebook/posts.json"))] == [mine["post_id"]]
    company = entries(client.pull(f"/pull/identities/{LI}/linkedin/company/333/posts.json"))
    assert company[0]["post_id"].startswith("urn:li:share:")


@pytest.mark.parametrize(("body", "info"), [
    (b"not json", "The request body must be JSON holding request.push.post"),
    (b'{"request": {"push": {"tweet": {"message": "x"}}}}', "The request body must be JSON holding request.push.post"),
    (b'{"request": {"push": {"post": {"message": "x", "colour": "red"}}}}', "Unknown field post.colour"),
    (b'{"request": {"push": {"post": {"location": "x"}}}}', "Missing required field post.message"),
    (b'{"request": {"push": {"post": {"message": "x", "attachments": ["1","2","3","4","5"]}}}}',
     "Invalid post.attachments: at most 4 allowed, got 5"),
])
def test_malformed_requests_are_400_with_their_info(sandbox: SandboxServer, body: bytes, info: str) -> None:
    # OneAll reads the raw body whatever the Content-Type says: send none.
    answer = requests.post(f"{sandbox.url}/push/identities/{TOKENS['acme-twitter'][1]}/twitter/post.json",
                           data=body, auth=(PUBLIC_KEY, PRIVATE_KEY), timeout=5)
    status = answer.json()["response"]["request"]["status"]
    assert answer.status_code == 400 and status == {"flag": "error", "code": 400, "info": info}
    assert "result" not in answer.json()["response"]


def test_unknown_paths_are_404_and_the_wrong_method_405(sandbox: SandboxServer) -> None:
    auth = (PUBLIC_KEY, PRIVATE_KEY)
    token = TOKENS["acme-twitter"][1]
    assert requests.post(f"{sandbox.url}/push/identities/{token}/twitter/poll.json", auth=auth, timeout=5).status_code == 404
    assert requests.get(f"{sandbox.url}/push/identities/{token}/twitter/post.json", auth=auth, timeout=5).status_code == 405
    assert requests.get(f"{sandbox.url}/pull/identities/{token}/twitter/tweets.json", timeout=5).status_code == 401


def test_what_was_published_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "db.jsonl"
    first = Sandbox(PUBLIC_KEY, PRIVATE_KEY, db_path=db)
    first.add_identity(TOKENS["acme-twitter"][1], "twitter", "acme")
    with SandboxServer(first) as server:
        OneAllClient(server.url, Credentials(PUBLIC_KEY, PRIVATE_KEY)).push(
            BY_TYPE["twitter.post"], TOKENS["acme-twitter"][1], {"message": "kept"})
    again = Sandbox(PUBLIC_KEY, PRIVATE_KEY, db_path=db)
    assert [o["fields"]["message"] for o in again.published()] == ["kept"]
    assert TOKENS["acme-twitter"][1] in again.identities
