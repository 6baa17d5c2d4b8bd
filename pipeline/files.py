"""Files the pipeline writes: whole or not at all, and the same bytes for the same data.

Every JSON document the pipeline writes (state, plans, schemas, lock files) goes
through ``dumps``, so that git diffs of them stay small and reviewable; every file that
must survive a crash goes through ``atomic_write``.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

from pipeline.errors import Diagnostic, Location, UserError

#: Open flags that never follow a symlink in the last component of a path.
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


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
    tmp.unlink(missing_ok=True)  # whatever stands there (a planted symlink) is never written through
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        if durable:
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, path)  # replaces a link at ``path`` itself, never its target
    if durable:
        fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a folder's entries (a rename, a new file) durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def refuse_links(path: Path, root: Path, shown: str) -> None:
    """Refuse (``UserError``, nothing changed) a symlink at ``path`` or at any folder
    between ``root`` and it: a pull request could plant one to make the pipeline read
    or write a file outside the project."""
    try:
        relative = path.relative_to(root)
    except ValueError:
        return  # not under the project: the caller chose it (a test, an explicit option)
    current = root
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            raise UserError(Diagnostic(
                f"{current.relative_to(root)} is a symbolic link: the state, its journal and its "
                "lock are never reached through one", Location(shown),
                "replace the link with the real file or folder (git rm it and restore the state)"))


def open_nofollow(path: Path, flags: int, mode: int = 0o644) -> int:
    """``os.open`` that refuses a symlink as the last component (ELOOP -> UserError)."""
    try:
        return os.open(path, flags | NOFOLLOW, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UserError(Diagnostic(f"{path.name} is a symbolic link: refused", Location(str(path)))) from None
        raise


def read_nofollow(path: Path) -> bytes | None:
    """The bytes of ``path``, or None if it does not exist; a symlink is refused."""
    try:
        fd = open_nofollow(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as fh:
        return fh.read()

