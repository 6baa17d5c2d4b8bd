"""A few records read straight from a state snapshot, without parsing the rest of it.

A plan of two changed files needs the records of a handful of addresses, not a model
of a hundred thousand. The snapshot is written in one canonical layout (``files.dumps``:
sorted keys, two-space indent), so its ``resources`` keys are sorted lines at one
indent, and a binary search over the file's bytes finds a record in a few dozen reads
of a memory map. Only a snapshot known to be canonical is read this way: the caller
checks that it is byte for byte the one whose canonical form it verified (``canonical``)
when it last parsed it whole; anything else is parsed whole, as always.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
from pathlib import Path
from typing import Callable, Iterable

from pydantic import ValidationError

from pipeline.files import NOFOLLOW
from pipeline.load.blobs import read_blob, write_blob
from pipeline.load.project import PRIVATE_DIR
from pipeline.model.state import Record

_WRITTEN = "written.marshal"
_KEY_LINE = b'\n    "'  # a key of "resources": the only lines at exactly four spaces
_RESOURCES = b'\n  "resources": {\n'
_EMPTY = b'\n  "resources": {},\n'
_DECODER = json.JSONDecoder()


def digest(path: str) -> str | None:
    """The SHA-256 of a snapshot's bytes, read without following a symlink; None if absent,
    a word that matches no digest if it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:  # a symlink, a folder: matches nothing; the full load says what is wrong
        return f"unreadable: {exc.errno}"
    with os.fdopen(fd, "rb") as fh:
        try:
            return hashlib.file_digest(fh, "sha256").hexdigest()
        except OSError as exc:
            return f"unreadable: {exc.errno}"


def canonical(root: Path | None, snapshot: bytes, serialized: Callable[[], bytes]) -> bool:
    """Whether a snapshot is laid out exactly as the store writes the state it holds:
    known if this machine wrote it (``written``), else checked by writing the state
    again (a third of a second per ten thousand manifests), and then remembered."""
    digest = hashlib.sha256(snapshot).hexdigest()
    if root is None:
        return snapshot == serialized()
    path = root / PRIVATE_DIR / _WRITTEN
    known = read_blob(path)
    if isinstance(known, list) and digest in known:
        return True
    if snapshot != serialized():
        return False
    written(root, digest)
    return True


def written(root: Path | None, digest: str) -> None:
    """Remember that the snapshot with this SHA-256 is canonical (the store wrote it):
    outside the cache, which a cold plan drops, in a MAC'd blob like it."""
    if root is None:
        return
    path = root / PRIVATE_DIR / _WRITTEN
    known = read_blob(path)
    recent = [d for d in known if isinstance(d, str) and d != digest][-15:] if isinstance(known, list) else []
    write_blob(path, [*recent, digest])


def records(path: str, addresses: Iterable[str]) -> dict[str, Record] | None:
    """The records of ``addresses`` that the canonical snapshot at ``path`` holds (an
    address it does not hold is left out); None if it cannot be read this way."""
    try:
        fd = os.open(path, os.O_RDONLY | NOFOLLOW)
    except FileNotFoundError:
        return {}
    except OSError:
        return None
    try:
        if os.fstat(fd).st_size == 0:
            return None
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as buf:
            bounds = body(buf)
            if bounds is None:
                return {} if buf.find(_EMPTY) >= 0 else None
            start, end = bounds[0] - 1, bounds[1]  # from the newline before the first key
            found: dict[str, Record] = {}
            for address in sorted(set(addresses)):
                at = _seek(buf, start, end, address)
                if at is not None:
                    record = _record(buf, at, end)
                    if record is None:
                        return None
                    found[address] = record
            return found
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)


def body(buf: mmap.mmap) -> tuple[int, int] | None:
    """Where a canonical snapshot's records are: from the first one's first byte to the
    newline after the last; None if it has none, or is laid out otherwise."""
    at = buf.find(_RESOURCES)
    # The end found from the end (the keys after "resources" hold numbers and strings):
    # a scan forward would touch every page of a hundred megabytes.
    end = buf.rfind(b"\n  }")
    if at < 0 or end < at:
        return None
    return at + len(_RESOURCES), end


def _key(buf: mmap.mmap, at: int) -> tuple[str, int]:
    """The key of the key line starting at ``at`` (its newline), and where its value starts."""
    end = buf.find(b"\n", at + 1)
    line = buf[at + 1:end].decode()
    key, after = _DECODER.raw_decode(line, 4)  # escapes and all, as the store wrote them
    if not isinstance(key, str) or line[after:] != ": {":
        raise ValueError("not a key line")
    return key, at + 1 + len(line.encode()) - 1


def position(buf: mmap.mmap, start: int, end: int, address: str) -> int | None:
    """The first key line after ``start`` (a newline) whose key is no smaller than
    ``address``, by bisection over byte offsets: the first line found after any offset has
    a key no smaller than the lines before that offset. None if every key is smaller."""
    lo, hi = start, end
    while lo < hi:
        mid = (lo + hi) // 2
        line = buf.find(_KEY_LINE, mid, end)
        if line < 0 or _key(buf, line)[0] >= address:
            hi = mid
        else:
            lo = line + 1
    line = buf.find(_KEY_LINE, lo, end)
    return line if line >= 0 else None


def key_at(buf: mmap.mmap, line: int) -> str:
    """The key of the key line at ``line`` (its newline)."""
    return _key(buf, line)[0]


def _seek(buf: mmap.mmap, start: int, end: int, address: str) -> int | None:
    line = position(buf, start, end, address)
    return line if line is not None and _key(buf, line)[0] == address else None


def _record(buf: mmap.mmap, at: int, end: int) -> Record | None:
    value_at = _key(buf, at)[1]
    close = buf.find(b"\n    }", value_at, end + 1)
    if close < 0:
        return None
    try:
        return Record.model_validate(json.loads(buf[value_at:close + 6].decode()))
    except (ValueError, ValidationError):
        return None
