"""``pipeline import --generate IDENTITY``: a manifest for every post an account has.

For a team that starts with posts already online: every post, pin, board, playlist and
playlist item that the account's Pull resources list becomes a manifest under
``content/<out>/<identity>/``, written from what is online, and is recorded in the
state as published with exactly that rendering, so that the next plan is clean. A
post already recorded (under any address) is skipped, so a second run adds only what
is new.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from pipeline import catalog, clock
from pipeline.app.adopt import _reader
from pipeline.app.workspace import Workspace, load_workspace
from pipeline.apply.readback import entry_result, online_request
from pipeline.catalog import Endpoint
from pipeline.errors import Diagnostic, IncompleteListing, UserError
from pipeline.files import atomic_write
from pipeline.load.project import CONTENT_DIR
from pipeline.model.journal import Imported
from pipeline.oneall.pull import Entry, Reader, listing

#: Listings under a listed object: a board's pins, a playlist's videos (the field that
#: names the parent in the child's manifest).
CHILDREN = {"pinterest.board": ("pinterest.pin", "board"), "youtube.playlist": ("youtube.playlist.video", "playlist")}
_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")
_MARKERS = ("{{", "{%", "{#")


@dataclass(frozen=True)
class _Found:
    endpoint: Endpoint
    entry: Entry
    parent: str | None = None  # the parent's id (a pin's board)


def _escape(text: str) -> str:
    """Text that renders as itself: template markers made literal."""
    if not any(m in text for m in _MARKERS):
        return text
    if "endraw" not in text:
        return "{% raw %}" + text + "{% endraw %}"
    return text.replace("{", "{{ '{' }}")


def _read_all(reader: Reader, network: str, token: str, since: datetime) -> list[_Found]:
    found: list[_Found] = []
    roots = [e for e in catalog.ENDPOINTS if e.network == network and e.pull and "{" not in e.pull]
    for endpoint in roots:
        resource = endpoint.pull_path(token, {})
        assert resource is not None
        for entry in listing(reader, endpoint, resource, since):
            found.append(_Found(endpoint, entry))
            child = CHILDREN.get(endpoint.type)
            if child and entry.id:
                child_endpoint = catalog.BY_TYPE[child[0]]
                child_resource = child_endpoint.pull_path(token, {child[1]: entry.id})
                assert child_resource is not None
                found += [_Found(child_endpoint, e, entry.id)
                          for e in listing(reader, child_endpoint, child_resource, since)]
    return found


def import_generate(workspace: Workspace, identity: str, *, since: datetime | None = None,
                    out: str = "imported") -> list[str]:
    """Write a manifest per post of ``identity`` not yet recorded, and record each as
    published. Returns the addresses adopted."""
    ident = workspace.project.config.identities.get(identity)
    if ident is None:
        raise UserError(Diagnostic(f"unknown identity {identity!r}",
                                   hint=f"pipeline.yaml has: {', '.join(sorted(workspace.project.config.identities))}"))
    if not re.fullmatch(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*", out):
        raise UserError(Diagnostic(f"--out {out!r}: a folder under content/, such as imported"))
    store = workspace.store()
    state = store.load()
    claimed = {(r.type, r.result.get(catalog.BY_TYPE[r.type].id_field)): address
               for address, r in state.resources.items() if r.type in catalog.BY_TYPE}
    with _reader(workspace) as reader:
        try:
            found = _read_all(reader, ident.network, ident.token,
                              since or datetime(1970, 1, 1, tzinfo=timezone.utc))
        except IncompleteListing as exc:
            raise UserError(Diagnostic(f"the account's posts could not be listed whole: {exc}",
                                       hint="narrow it with --since DATE")) from None
    addresses = {(f.endpoint.type, f.entry.id): _address(out, identity, f) for f in found}
    written: dict[str, tuple[Path, _Found]] = {}
    for item in found:
        key = (item.endpoint.type, item.entry.id)
        if item.entry.id is None or key in claimed:
            continue
        fields = _fields(item, claimed, addresses)
        if fields is None:
            continue  # the listing does not show what a manifest needs (a tweet with no text)
        address = addresses[key]
        path = workspace.project.root / CONTENT_DIR / (address.rsplit("/", 1)[0] + ".yaml")
        if address in state.resources or path.exists() or address in written:
            continue  # never overwrite a manifest, nor adopt over a recorded address
        doc = {"actions": {address.rsplit("/", 1)[1]: {"type": item.endpoint.type, "identity": identity,
                                                       **fields}}}
        text = (f"# Imported from {ident.network} by `pipeline import --generate {identity}`: "
                "what was online then.\n" + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100))
        atomic_write(path, text, durable=False)
        written[address] = (path, item)
    if not written:
        return []
    try:
        loaded = load_workspace(workspace, use_cache=False)
    except UserError:
        for path, _ in written.values():
            path.unlink(missing_ok=True)  # nothing half-adopted: the files go, the state is untouched
        raise
    with store.locked():
        state = store.load_for_update()
        for address, (_, item) in written.items():
            action = loaded.graph.actions[address]
            store.commit(state, Imported(
                address, type=action.type, identity=action.identity, digest=action.digest,
                result=entry_result(item.endpoint, item.entry), at=clock.stamp(), how="read",
                request=action.request,
                published_at=clock.stamp(item.entry.date) if item.entry.date else None))
        store.save(state)
    return sorted(written)


def _address(out: str, identity: str, item: _Found) -> str:
    """Where a listed post's manifest goes: named after its id, and when the id had to
    be changed to make a file name, with a digest of it (``a/b`` and ``a-b`` are two)."""
    ident = str(item.entry.id)
    slug = _SLUG.sub("-", ident).strip("-.")
    if slug != ident:
        slug = f"{slug}-{hashlib.sha256(ident.encode()).hexdigest()[:8]}".lstrip("-")
    return f"{out}/{identity}/{item.endpoint.type.split('.', 1)[1]}-{slug}/{item.endpoint.object}"


def _fields(item: _Found, claimed: dict[tuple[str, str | None], str],
            addresses: dict[tuple[str, str | None], str]) -> dict[str, Any] | None:
    endpoint = item.endpoint
    fields = online_request(endpoint, item.entry, {})
    child = next((c for parent, c in CHILDREN.items() if c[0] == endpoint.type), None)
    if child is not None and item.parent is not None:
        parent_type = next(p for p, c in CHILDREN.items() if c == child)
        target = addresses.get((parent_type, item.parent)) or claimed.get((parent_type, item.parent))
        fields[child[1]] = {"ref": target} if target else item.parent
    if endpoint.type == "youtube.playlist.video":
        fields.setdefault("video_id", str(item.entry.fields.get("video_id") or item.entry.id))
    for spec in endpoint.fields:
        if spec.required and spec.name not in fields and not (spec.media and "file" in fields):
            return None
        if isinstance(fields.get(spec.name), str):
            fields[spec.name] = _escape(fields[spec.name])
    return {k: v for k, v in fields.items() if v not in (None, "")}
