"""Media files in the repository -> the public URLs that OneAll fetches them from.

OneAll takes media by URL only, so ``file: media/rocket.png`` (relative to
``content/``) becomes ``<media_base_url>/media/rocket.png``: the site that serves the
repository's media (a CDN, a bucket, GitHub Pages). The file must exist inside
``content/`` (a symlink may not lead out of it), and a picture must be one of the
formats OneAll takes, at most 5 MB [doc]. A FIFO, a device or a folder is refused
without blocking, and a picture's size is checked before it is read.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from pipeline.catalog import PICTURE_FORMATS, PICTURE_MAX_BYTES
from pipeline.errors import MediaError, Refused
from pipeline.load.reads import opened, resolve_inside, stat_regular

#: How each picture format OneAll takes begins.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)


def picture_format(head: bytes) -> str | None:
    """The picture format of a file from its first bytes, if OneAll takes it."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


def media_url(content_dir: Path, relative: str, medium: str, base_url: str | None) -> str:
    """The URL for ``relative`` under ``content_dir``, after checking the file: a regular
    file really inside ``content/`` (which must really be inside the project), and for
    a picture, its size (from the open file, before a byte is read) and format.

    Raises:
        MediaError: what is wrong, naming the path as written.
    """
    posix = PurePosixPath(relative.replace("\\", "/"))
    if not relative or posix.is_absolute() or relative.startswith("~"):
        raise MediaError(f"file {relative!r} must be a path relative to content/")
    if ".." in posix.parts:
        raise MediaError(f"file {relative!r} leads out of content/")
    try:
        root = resolve_inside(content_dir, os.path.realpath(content_dir.parent), "the project")
        path = resolve_inside(content_dir / posix, root, "content/")
    except Refused:
        raise MediaError(f"file {relative!r} leads out of content/ (through a symlink)") from None
    try:
        if medium == "picture":
            with opened(path) as (fd, info):
                if info.st_size > PICTURE_MAX_BYTES:
                    raise MediaError(f"picture {relative!r} is {info.st_size} bytes; OneAll takes at most "
                                     f"{PICTURE_MAX_BYTES} (5 MB)")
                if picture_format(os.read(fd, 16)) is None:
                    raise MediaError(f"picture {relative!r} is not {', '.join(PICTURE_FORMATS)}")
        else:
            stat_regular(path)  # a video is fetched by OneAll, never read here
    except Refused as refused:
        if refused.message == "does not exist":
            raise MediaError(f"file {relative!r} does not exist under content/") from None
        raise MediaError(f"file {relative!r} {refused.message}") from None
    if base_url is None:
        raise MediaError("file: needs media_base_url in pipeline.yaml, the public URL "
                         "that serves content/")
    return base_url.rstrip("/") + "/" + quote(posix.as_posix())
