"""A state held in part and written back whole.

An apply of two changed manifests in a repository of a hundred thousand holds the
records it can touch, not three hundred thousand models (seven hundred megabytes). The
snapshot is canonical (``store.serialized``: sorted keys, two-space indent), so its
records are found by bisection (``apply.lookup``) and it is written back by copying every
other record's bytes as they are, in order, around the new renderings of the held ones:
the file is exactly what serializing the whole state would give.

``PartialStore`` refuses, before anything is written, an event about an address it does
not hold: folding it into a record that was never read would lose the record.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import re
from pathlib import Path
from typing import Iterable, Iterator

from pipeline.apply import lookup
from pipeline.apply.store import StateStore, serialized
from pipeline.files import NOFOLLOW, fsync_dir
from pipeline.model.journal import Event, Moved
from pipeline.model.state import State

_SERIAL = re.compile(rb'\n  "serial": (\d+)')
_CHUNK = 1 << 20


class PartialStore(StateStore):
    """A ``StateStore`` whose state holds only some records (``load_part``)."""

    held: frozenset[str] = frozenset()

    def load_part(self, addresses: Iterable[str], digest: str | None = None) -> State | None:
        """The state with only the records of ``addresses`` (those it has); None when the
        snapshot cannot be read in part (not canonical, a journal to replay, no records).
        ``digest``: the snapshot's SHA-256, when the caller already knows it (a hundred
        megabytes are not read again to learn it)."""
        self.check_links()
        if self.journal_path.exists():
            return None
        wanted = frozenset(addresses)
        records = lookup.records(str(self.path), wanted)
        head = _header(self.path)
        if records is None or head is None:
            return None
        state = State.model_validate(head)
        if state.site != self.site or not state.lineage:
            # The full load words the refusal; and a lineage is fixed by the first save,
            # which writes the header the part copies as it is.
            return None
        state.resources.update(records)
        self.held = wanted
        self._chain = "sha256:" + (digest or lookup.digest(str(self.path)) or "")
        return state

    def commit(self, state: State, event: Event, *, durable: bool = True) -> None:
        touched = {event.address, event.to} if isinstance(event, Moved) else {event.address}
        missing = touched - self.held - set(state.resources)
        if missing:
            raise AssertionError(f"an event about {sorted(missing)}, whose records were not read")
        super().commit(state, event, durable=durable)

    def _write(self, state: State) -> str:
        """The snapshot written back whole: held records as they are now, the rest as they were."""
        return "sha256:" + _rewrite(self.path, state, set(self.held) | set(state.resources))


def _header(path: Path) -> dict[str, object] | None:
    """The snapshot's keys other than its records."""
    try:
        fd = os.open(path, os.O_RDONLY | NOFOLLOW)
    except OSError:
        return None
    try:
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as buf:
            bounds = lookup.body(buf)
            if bounds is None:
                return None
            start, end = bounds
            head = json.loads(bytes(buf[:start - len(b"\n  \"resources\": {\n")]) + b'\n  "resources": {}'
                              + bytes(buf[end + len(b"\n  }"):]))
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    return head if isinstance(head, dict) else None


def _entry(address: str, state: State) -> bytes:
    """One record as the canonical snapshot writes it, at its depth."""
    record = state.resources[address].model_dump(mode="json", exclude_none=True)
    lines = json.dumps({address: record}, sort_keys=True, indent=2, ensure_ascii=False).split("\n")[1:-1]
    return "\n".join("  " + line for line in lines).encode()


def _pieces(buf: mmap.mmap, start: int, end: int, state: State,
            touched: set[str]) -> Iterator[bytes | tuple[int, int]]:
    """The new records' part of the file: spans of the old one (offsets) and new entries,
    to be joined by ``,\\n``."""
    cursor = start
    for address in sorted(touched):
        at = lookup.position(buf, start - 1, end, address)
        found = at is not None and lookup.key_at(buf, at) == address
        begin = end if at is None else at + 1
        if begin > cursor:
            yield (cursor, begin - 2 if begin < end else end)
        if address in state.resources:
            yield _entry(address, state)
        if found:
            assert at is not None
            close = buf.find(b"\n    }", at + 1, end + 1) + len(b"\n    }")
            cursor = close + 2 if close < end else end
        elif begin > cursor:
            cursor = begin
    if cursor < end:
        yield (cursor, end)


def _rewrite(path: Path, state: State, touched: set[str]) -> str:
    """Write the new snapshot atomically and durably; returns its SHA-256."""
    digest = hashlib.sha256()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(path, os.O_RDONLY | NOFOLLOW)
    try:
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as buf, \
                os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o644), "wb") as out:
            bounds = lookup.body(buf)
            if bounds is None:
                raise ValueError("the snapshot is not in canonical form")
            start, end = bounds

            def write(data: bytes) -> None:
                digest.update(data)
                out.write(data)

            pieces = list(_pieces(buf, start, end, state, touched))
            if not pieces:  # no record left: the canonical form of an empty mapping
                write(bytes(buf[:start - 1]) + b"},")
            else:
                write(bytes(buf[:start]))
                for n, piece in enumerate(pieces):
                    if n:
                        write(b",\n")
                    if isinstance(piece, bytes):
                        write(piece)
                        continue
                    # Copied through a small buffer, read with pread: the old file is
                    # never held, nor mapped page by page into this process.
                    for at in range(piece[0], piece[1], _CHUNK):
                        write(os.pread(fd, min(_CHUNK, piece[1] - at), at))
                write(b"\n  },")
            tail = bytes(buf[end + len(b"\n  },"):])
            write(_SERIAL.sub(f'\n  "serial": {state.serial}'.encode(), tail, count=1))
            out.flush()
            os.fsync(out.fileno())
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)
    return digest.hexdigest()


def whole(state: State) -> bytes:
    """What the whole state serializes to (tests compare a partial save with it)."""
    return serialized(state)
