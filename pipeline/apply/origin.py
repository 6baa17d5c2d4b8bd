"""Whether the state was last written by the pipeline itself: checked before an apply.

A pull request can change ``state/state.json`` like any file. With the site's key, every
snapshot the pipeline writes is signed (``apply.signature``), and an apply refuses one it
did not write, or one that goes back on what git recorded, until a person confirms it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Sequence

from pipeline.apply import lookup
from pipeline.apply.signature import behind
from pipeline.apply.store import StateStore
from pipeline.errors import Diagnostic, Location, UserError
from pipeline.files import NOFOLLOW, read_nofollow


def verify(store: StateStore, confirmed: str | None = None, history: Sequence[bytes] = ()) -> None:
    """Refuse a state that was not last written by the pipeline with this site's key
    (a hand edit, a pull request that forgets or forges a post), or that goes back on
    what ``history`` (the newest versions of the state that git holds) recorded: an
    older signed state, another lineage, no state at all. ``confirmed`` lets it pass
    when it is the digest the refusal names: a person has reviewed that change."""
    if store.signer is None:
        return
    store.check_links()
    snapshot = _edges(store.path)  # its lineage and serial: the whole may be a hundred megabytes
    digest = "sha256:" + (lookup.digest(str(store.path)) or hashlib.sha256(b"").hexdigest())
    if confirmed == digest:
        return
    why = behind(snapshot, history)
    if why is None and snapshot is not None:
        signature = (read_nofollow(store.signature_path) or b"").decode("ascii", "replace").strip()
        if not store.signer.verify(digest, signature):
            why = ("has no signature" if not signature else
                   "was changed since the pipeline last wrote it (its signature does not match)")
    if why is None:
        return
    raise UserError(Diagnostic(
        f"the state {why}: it may forget or forge what was published, so nothing is sent",
        Location(store.shown),
        f"review the commits that changed {store.shown}, then confirm this exact state: "
        f"--confirm-state {digest} (in the apply workflow: run it by hand with that "
        "digest as its confirm-state input)"))


def _edges(path: Path, edge: int = 4096) -> bytes | None:
    """The snapshot's first and last ``edge`` bytes (a newline between), as
    ``git.recent_versions`` gives the versions git holds; None if there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | NOFOLLOW)
    except FileNotFoundError:
        return None
    try:
        size = os.fstat(fd).st_size
        if size <= 2 * edge:
            return os.pread(fd, size, 0)
        return os.pread(fd, edge, 0) + b"\n" + os.pread(fd, edge, size - edge)
    finally:
        os.close(fd)
