"""What the pipeline keeps for itself under ``.pipeline/``: the compile cache and the
remembered plan, trusted only if this machine wrote them.

A pull request can commit ``.pipeline/`` too, with a cache entry that says a file
compiles to a post the reviewers never saw. So every blob carries an HMAC under a key
that lives outside the repository (in the user's cache folder, created on first use,
readable by the user only): a blob that does not verify is ignored, as if absent. A
``.pipeline/`` that git tracks is not used at all (``tracked``), and the plan says so.

In CI the key file travels with the cache it proves (``PIPELINE_BLOB_KEY_FILE`` says where
it is; the workflows keep both in GitHub's cache), so a pull request's run can read the key
of ``main``'s cache. That is why a blob carries a second MAC, under a key derived from the
site's private key: a run that holds that key (the apply, on ``main`` only) trusts only
that one, which no pull request's run can make, and writes both, so that a pull request's
plan can still use ``main``'s cache.
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
_MAGIC = b"pipeline-blob-2\n"
_MAC_BYTES = 32
_HEADER = len(_MAGIC) + 2 * _MAC_BYTES  # the key file's MAC, then the site key's (or zeros)
#: Where the key file is, when it is not in the user's cache folder (an absolute path).
KEY_FILE_ENV = "PIPELINE_BLOB_KEY_FILE"
_KEYS: dict[str, bytes] = {}


def key_path() -> Path:
    """Where this user's blob key is kept: outside every repository."""
    chosen = os.environ.get(KEY_FILE_ENV, "")
    if os.path.isabs(chosen):  # a relative one could name a file of the repository
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pipeline" / "blob.key"


def _key() -> bytes:
    path = key_path()
    if str(path) not in _KEYS:
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
        _KEYS[str(path)] = key if len(key) >= 32 else secrets.token_bytes(32)
    return _KEYS[str(path)]


def _site_key() -> bytes | None:
    """The key derived from the site's private key, when this run holds it: one way, and
    apart from the state's signing key (apply/signature.py) by its label."""
    private = os.environ.get("ONEALL_PRIVATE_KEY")
    return hashlib.sha256(b"pipeline blob key\0" + private.encode()).digest() if private else None


def _macs(body: bytes | memoryview) -> bytes:
    site = _site_key()
    return (hmac.new(_key(), body, hashlib.sha256).digest()
            + (hmac.new(site, body, hashlib.sha256).digest() if site else bytes(_MAC_BYTES)))


def _verifies(macs: bytes | memoryview, body: bytes | memoryview) -> bool:
    """A run holding the site's key checks only that MAC: the key file's may be known to
    a pull request's run. Zeros (written without the site's key) never match."""
    site = _site_key()
    if site is None:
        return hmac.compare_digest(macs[:_MAC_BYTES], hmac.new(_key(), body, hashlib.sha256).digest())
    return hmac.compare_digest(macs[_MAC_BYTES:], hmac.new(site, body, hashlib.sha256).digest())


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
        head, macs, body = data[:len(_MAGIC)], data[len(_MAGIC):_HEADER], data[_HEADER:]
        if head != _MAGIC or len(macs) != 2 * _MAC_BYTES or not _verifies(macs, body):
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
            atomic_write(path, _MAGIC + _macs(body) + body, durable=False)
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
