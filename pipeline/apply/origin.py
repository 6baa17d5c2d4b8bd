"""Whether the state was last written by the pipeline itself: checked before an apply.

A pull request can change ``state/state.json`` like any file. With the site's key, every
snapshot the pipeline writes is signed (``apply.signature``), and an apply refuses one it
did not write, or one that goes back on what git recorded, until a person confirms it.
"""

from __future__ import annotations

from typing import Sequence

from pipeline.apply.signature import behind, digest_of
from pipeline.apply.store import StateStore
from pipeline.errors import Diagnostic, Location, UserError
from pipeline.files import read_nofollow


def verify(store: StateStore, confirmed: str | None = None, history: Sequence[bytes] = ()) -> None:
    """Refuse a state that was not last written by the pipeline with this site's key
    (a hand edit, a pull request that forgets or forges a post), or that goes back on
    what ``history`` (the newest versions of the state that git holds) recorded: an
    older signed state, another lineage, no state at all. ``confirmed`` lets it pass
    when it is the digest the refusal names: a person has reviewed that change."""
    if store.signer is None:
        return
    store.check_links()
    snapshot = read_nofollow(store.path)
    digest = digest_of(snapshot or b"")
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
