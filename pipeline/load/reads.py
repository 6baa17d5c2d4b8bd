"""Reading a user's file: only a regular file really inside its folder, and never more than a cap.

A pull request can commit a symlink to ``/proc/self/environ`` or to another folder,
and a checkout or a cache can hold a FIFO or a device. So every read of the content
(manifests, ``pipeline.yaml``, templates, media) goes through here:

- the path is resolved through every symlink and must land inside its folder's real
  path (a symlink whose target stays inside is fine);
- what it names must be a regular file: a FIFO, a socket or a device is refused without
  being opened (opening some devices acts), and the file is then opened without
  blocking and without following a last symlink, and checked again on the open
  descriptor, so it cannot be swapped in between;
- the size is checked on that descriptor before anything is read, and at most
  ``cap + 1`` bytes are ever read, so a file that grows meanwhile is caught too.
"""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from pipeline.errors import Refused

_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NOCTTY", 0) \
    | getattr(os, "O_CLOEXEC", 0)
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def is_inside(real: str, real_root: str) -> bool:
    """Whether the real path ``real`` is ``real_root`` or under it."""
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def resolve_inside(path: str | os.PathLike[str], real_root: str, folder: str) -> str:
    """The real path of ``path``, which must lie inside ``real_root`` (shown as ``folder``).

    Raises:
        Refused: the path leads out of the folder, through a symlink or ``..``.
    """
    real = os.path.realpath(path)
    if not is_inside(real, real_root):
        raise Refused(f"leads out of {folder} (through a symlink)")
    return real


def kind(mode: int) -> str | None:
    """What a file of ``mode`` is, when it is not a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def stat_regular(real: str) -> os.stat_result:
    """The ``stat`` of ``real``, which must be a regular file.

    Raises:
        Refused: it does not exist, or is a folder, a FIFO, a socket or a device.
    """
    try:
        info = os.stat(real)
    except FileNotFoundError:
        raise Refused("does not exist") from None
    except OSError as exc:
        raise Refused(f"cannot be read: {exc.strerror}") from None
    what = kind(info.st_mode)
    if what is not None:
        raise Refused(f"is {what}, not a regular file")
    return info


@contextmanager
def opened(real: str, *, checked: bool = False) -> Iterator[tuple[int, os.stat_result]]:
    """A descriptor on the regular file at the real path ``real``, and its ``stat``.

    ``checked``: the caller has just seen it is a regular file (a scan): skip that ``stat``.

    Raises:
        Refused: not a regular file, or unreadable.
    """
    if not checked:
        stat_regular(real)
    try:
        fd = os.open(real, _FLAGS)
    except OSError as exc:
        raise Refused(f"cannot be read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        what = kind(info.st_mode)
        if what is not None:
            raise Refused(f"is {what}, not a regular file")
        yield fd, info
    except OSError as exc:
        raise Refused(f"cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)


def read_capped(real: str, cap: int, *, checked: bool = False) -> bytes:
    """The bytes of the regular file at the real path ``real``, at most ``cap`` of them,
    its size checked on the open descriptor before anything is read.

    Raises:
        Refused: not a regular file, over ``cap`` bytes, or unreadable.
    """
    with opened(real, checked=checked) as (fd, info):
        if info.st_size > cap:
            raise Refused(f"is {info.st_size} bytes, over the limit of {cap}")
        chunks: list[bytes] = []
        size = 0
        while size <= cap:
            # As much as the file holds (and one byte more, to see it grow), never the
            # whole cap: os.read allocates what it is asked for, a blob's cap is 256 MB.
            chunk = os.read(fd, min(cap + 1 - size, max(info.st_size - size + 1, 1 << 16)))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > cap:  # it grew after the check
            raise Refused(f"is over the limit of {cap} bytes")
        return b"".join(chunks)


def read_template(folder: Path, within: str | None, name: str) -> tuple[str, str]:
    """The text of template ``name`` (an include's name: ``/``-separated, no ``..``) and
    its real path: a regular file really inside ``folder``, itself really inside
    ``within`` when given, size-capped before it is read. Without Jinja, so that a plain
    include (``render``'s plain path) does not import it; Jinja's loader reads through it.

    Raises:
        LookupError: a name that cannot stand for a file inside the folder.
        Refused: not a regular file inside, too large, unreadable (or "does not exist").
    """
    from pipeline.load.bounds import MAX_TEMPLATE_BYTES

    pieces = []
    for piece in name.split("/"):
        if os.path.sep in piece or (os.path.altsep and os.path.altsep in piece) or piece == os.path.pardir:
            raise LookupError(name)
        if piece and piece != ".":
            pieces.append(piece)
    root = os.path.realpath(folder) if within is None else resolve_inside(folder, within, "content/")
    real = resolve_inside(os.path.join(folder, *pieces), root, "content/templates/")
    raw = read_capped(real, MAX_TEMPLATE_BYTES)
    try:
        return raw.decode("utf-8"), real
    except UnicodeDecodeError:
        raise Refused("is not valid UTF-8") from None
