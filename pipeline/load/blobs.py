"""What the pipeline keeps for itself under ``.pipeline/``: the compile cache and the
remembered plan, trusted only if this machine wrote them.

A pull request can commit ``.pipeline/`` too, with a cache entry that says a file
compiles to a post the reviewers never saw. So every blob carries an HMAC under a key
that lives outside the repository (in the user's cache folder, created on first use,
readable by the user only): a blob that does not verify is ignored, as if absent. A
``.pipeline/`` that git tracks is not used at all (``tracked``), and the plan says so.
"""

from __future__ import annotations

import hashlib
import hmac
import marshal
import os
import secrets
import subprocess
from pathlib import Path
from typing import Any

from pipeline.errors import Refused
from pipeline.files import NOFOLLOW, atomic_write
from pipeline.load.project import PRIVATE_DIR
from pipeline.load.reads import read_capped

#: The largest blob read back: ten thousand manifests take a few megabytes.
MAX_BLOB_BYTES = 256 * 1024 * 1024
_MAGIC = b"pipeline-blob-1\n"
_MAC_BYTES = 32
_KEY: list[bytes] = []


def key_path() -> Path:
    """Where this user's blob key is kept: outside every repository."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pipeline" / "blob.key"


def _key() -> bytes:
    if not _KEY:
        path = key_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(secrets.token_bytes(32))
            except FileExistsError:
                pass
            key = read_capped(str(path), 1024)
        except (OSError, Refused):
            key = b""
        # No key to be had (a read-only home): one for this process, so that nothing
        # from outside it is ever trusted.
        _KEY.append(key if len(key) >= 32 else secrets.token_bytes(32))
    return _KEY[0]


def _mac(body: bytes | memoryview) -> bytes:
    return hmac.new(_key(), body, hashlib.sha256).digest()


def _private(path: Path) -> bool:
    """Whether ``path`` is in the project's own ``.pipeline/``, through no symlink: a
    pull request could commit one leading elsewhere, or a FIFO in its place."""
    parts = path.parts
    if PRIVATE_DIR not in parts:
        return False
    at = parts.index(PRIVATE_DIR)
    expected = os.path.join(os.path.realpath(Path(*parts[:at])), *parts[at:-1])
    return os.path.realpath(path.parent) == expected


def read_blob(path: Path) -> Any:
    """A blob this machine wrote, or None: also when it is not a regular file of
    ``.pipeline/`` (no symlink on the way), is over ``MAX_BLOB_BYTES``, or its MAC does
    not verify (written elsewhere, or forged)."""
    try:
        if not _private(path):
            return None
        data = memoryview(read_capped(str(path), MAX_BLOB_BYTES))  # slices share it: no copy
        head, mac, body = data[:len(_MAGIC)], data[len(_MAGIC):len(_MAGIC) + _MAC_BYTES], \
            data[len(_MAGIC) + _MAC_BYTES:]
        if head != _MAGIC or not hmac.compare_digest(mac, _mac(body)):
            return None
        return marshal.loads(body)  # plain data only: marshal loads no code object we run
    except (Refused, OSError, ValueError, EOFError, TypeError):
        return None


def write_blob(path: Path, value: Any) -> None:
    """Write a blob atomically, with its MAC, never through a symlink; a failure only
    costs time later."""
    try:
        if not _private(path):  # checked before any folder is made: never through a link
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        if _private(path) and not path.is_symlink():
            body = marshal.dumps(value)
            atomic_write(path, _MAGIC + _mac(body) + body, durable=False)
    except (OSError, ValueError):
        pass


def tracked(root: Path) -> bool:
    """Whether git tracks anything under ``root``'s ``.pipeline/`` (then a commit brought
    it, and it is not used). Not a repository, or no git: nothing can be tracked."""
    try:
        done = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--", PRIVATE_DIR],
                              capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and bool(done.stdout)
