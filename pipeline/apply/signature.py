"""The state's signature: proof that the pipeline itself, holding the site's key, wrote it.

A pull request can edit ``state/`` to forget a post (the next apply publishes it twice)
or forge one (it is never published). The apply holds the site's private key; a key
derived from it signs each snapshot it writes, and chains a MAC through each journal
line, so that the next apply can tell its own writing from anyone else's.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Sequence


class Signer:
    """Signs the state's bytes with a key derived from the site's private key (HMAC-SHA256),
    so that only a run holding the key can write a state the next apply trusts."""

    def __init__(self, private_key: str) -> None:
        self._key = hashlib.sha256(b"pipeline state signature\0" + private_key.encode()).digest()

    def sign(self, digest: str) -> str:
        return "hmac-sha256:" + hmac.new(self._key, digest.encode(), hashlib.sha256).hexdigest()

    def verify(self, digest: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(digest), signature)

    def chain(self, previous: str, line: str) -> str:
        """The MAC of a journal line, chained to the one before it (the first to the
        snapshot's digest): a line cannot be forged, moved or dropped from the middle."""
        return hmac.new(self._key, (previous + "\n" + line).encode(), hashlib.sha256).hexdigest()[:32]


def digest_of(snapshot: bytes) -> str:
    """What the snapshot's signature covers, and what ``--confirm-state`` names."""
    return "sha256:" + hashlib.sha256(snapshot).hexdigest()


_SERIAL = re.compile(rb'^  "serial": (\d+),?$', re.M)
_LINEAGE = re.compile(rb'^  "lineage": "([^"]*)",?$', re.M)


def behind(snapshot: bytes | None, history: Sequence[bytes]) -> str | None:
    """How ``snapshot`` goes back on the states git recorded before it, if it does.

    The states in git were written by ``save`` (two-space indent, sorted keys), so their
    lineage and serial are read with a pattern, not a parse of a large file."""
    known = [(m.group(1), int(s.group(1))) for version in history
             if (m := _LINEAGE.search(version)) and (s := _SERIAL.search(version))]
    if not known:
        return None
    if snapshot is None:
        return "was removed, although git recorded one"
    lineage, serial = _LINEAGE.search(snapshot), _SERIAL.search(snapshot)
    if lineage is None or serial is None:
        return "cannot be read for its lineage and serial"
    newest_lineage = known[0][0]
    if lineage.group(1) != newest_lineage:
        return "belongs to another history (lineage) than the one git recorded"
    highest = max(n for lin, n in known if lin == newest_lineage)
    if int(serial.group(1)) < highest:
        return f"is older (serial {int(serial.group(1))}) than one git recorded (serial {highest})"
    return None

