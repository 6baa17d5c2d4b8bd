"""Files the pipeline writes: whole or not at all, and the same bytes for the same data.

Every JSON document the pipeline writes (state, plans, schemas, lock files) goes
through ``dumps``, so that git diffs of them stay small and reviewable; every file that
must survive a crash goes through ``atomic_write``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def dumps(data: Any) -> str:
    """Deterministic JSON: sorted keys, two-space indent, UTF-8 kept, a final newline."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def dumps_line(data: Any) -> str:
    """Deterministic JSON on one line (a journal event), without the newline."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def atomic_write(path: Path, data: str | bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` so that a reader sees the old or the new file, whole.

    ``durable`` also fsyncs the file and its folder, so that a crash cannot lose it: the
    state needs that; a cache, which only saves time, does not.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        if durable:
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, path)
    if durable:
        fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a folder's entries (a rename, a new file) durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
