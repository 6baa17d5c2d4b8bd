"""The id minter: ids and locations that look like each network's own.

Twitter's are snowflakes, Facebook's are ``<owner>_<post>``, LinkedIn's are share
URNs, YouTube's are 11-character video ids and ``PL…`` playlists. A client that
keeps ids as opaque strings works with all of them; one that assumes digits or a
length does not, and the sandbox should show it.
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
import string
import time
from typing import Any

from pipeline.catalog import Endpoint

#: Twitter's epoch, in milliseconds since 1970, for snowflake ids.
_TWITTER_EPOCH_MS = 1288834974657


class IdMinter:
    """Mints the result ids of one push for one connected account."""

    def __init__(self, rng: random.Random, token: str, name: str) -> None:
        self.rng = rng
        self.token = token
        self.name = name

    def digits(self, n: int) -> str:
        return str(self.rng.randint(1, 9)) + "".join(self.rng.choice(string.digits) for _ in range(n - 1))

    def chars(self, n: int) -> str:
        return "".join(self.rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(n))

    def account(self, n: int) -> str:
        """A stable numeric id of the connected account itself, derived from its token."""
        digest = hashlib.sha256(self.token.encode()).hexdigest()
        return str(int(digest, 16))[:n]

    def snowflake(self) -> str:
        # Twitter's ids: milliseconds since its epoch, shifted, plus a sequence.
        return str(((int(time.time() * 1000) - _TWITTER_EPOCH_MS) << 22) | self.rng.getrandbits(22))

    def for_endpoint(self, endpoint: Endpoint, values: dict[str, Any]) -> dict[str, str]:
        """The ids (and location) a push through ``endpoint`` answers with."""
        name, obj, network = self.name, endpoint.object, endpoint.network
        if network == "twitter":
            new = self.snowflake()
            out = {f"{obj}_id": new}
            if obj == "post":
                out["post_location"] = f"https://twitter.com/{name}/status/{new}"
            return out
        if network == "facebook":
            owner = values.get("page") or values.get("group") or self.account(15)
            new = self.digits(16)
            if obj == "post":
                return {"post_id": f"{owner}_{new}",
                        "post_location": f"https://www.facebook.com/{owner}/posts/{new}"}
            out = {f"{obj}_id": new}
            if endpoint.type == "facebook.picture" and values.get("create_post", True):
                out["post_id"] = f"{owner}_{self.digits(16)}"
            return out
        if network == "linkedin":
            urn = f"urn:li:share:{self.digits(19)}"
            return {"post_id": urn, "post_location": f"https://www.linkedin.com/feed/update/{urn}/"}
        if network == "pinterest":
            new = self.digits(18)
            if obj == "board":
                slug = re.sub(r"[^a-z0-9]+", "-", str(values.get("name", "board")).lower()).strip("-")
                return {"board_id": new, "board_location": f"https://www.pinterest.com/{name}/{slug}/"}
            return {"pin_id": new, "pin_location": f"https://www.pinterest.com/pin/{new}/"}
        return self._youtube(endpoint, values)

    def _youtube(self, endpoint: Endpoint, values: dict[str, Any]) -> dict[str, str]:
        obj = endpoint.object
        if obj == "playlist":
            new = "PL" + self.chars(32)
            return {"playlist_id": new, "playlist_location": f"https://www.youtube.com/playlist?list={new}"}
        if obj == "section":
            channel = "UC" + base64.urlsafe_b64encode(hashlib.sha256(self.token.encode()).digest()).decode()[:22]
            return {"section_id": f"{channel}.{self.chars(22)}"}
        if endpoint.type == "youtube.playlist.video":
            return {"playlist_id": str(values["playlist"]), "video_id": str(values["video_id"])}
        new = self.chars(11)
        return {"video_id": new, "video_location": f"https://www.youtube.com/watch?v={new}"}


_URL = re.compile(r"https?://\S+")


def rewrite_tweet(text: str, rng: random.Random) -> str:
    """The text as Twitter stores it: every link shortened to a t.co URL, white space collapsed."""
    def shorten(_: re.Match[str]) -> str:
        return "https://t.co/" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(10))

    return re.sub(r"\s+", " ", _URL.sub(shorten, text)).strip()
