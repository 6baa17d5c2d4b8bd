"""Media files in the repository -> the public URLs that OneAll fetches them from.

OneAll takes media by URL only, so ``file: media/rocket.png`` (relative to
``content/``) becomes ``<media_base_url>/media/rocket.png``: the site that serves the
repository's media (a CDN, a bucket, GitHub Pages). The file must exist inside
``content/`` (a symlink may not lead out of it), and a picture must be one of the
formats OneAll takes, at most 5 MB [doc].
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import quote

from pipeline.catalog import PICTURE_FORMATS, PICTURE_MAX_BYTES
from pipeline.errors import MediaError

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
    """The URL for ``relative`` under ``content_dir``, after checking the file."""
    posix = PurePosixPath(relative.replace("\\", "/"))
    if not relative or posix.is_absolute() or relative.startswith("~"):
        raise MediaError(f"file {relative!r} must be a path relative to content/")
    if ".." in posix.parts:
        raise MediaError(f"file {relative!r} leads out of content/")
    root = content_dir.resolve()
    path = (content_dir / posix).resolve()
    if not path.is_relative_to(root):
        raise MediaError(f"file {relative!r} leads out of content/ (through a symlink)")
    if not path.is_file():
        raise MediaError(f"file {relative!r} does not exist under content/")
    if medium == "picture":
        size = path.stat().st_size
        if size > PICTURE_MAX_BYTES:
            raise MediaError(f"picture {relative!r} is {size} bytes; OneAll takes at most "
                             f"{PICTURE_MAX_BYTES} (5 MB)")
        with open(path, "rb") as fh:
            if picture_format(fh.read(16)) is None:
                raise MediaError(f"picture {relative!r} is not {', '.join(PICTURE_FORMATS)}")
    if base_url is None:
        raise MediaError("file: needs media_base_url in pipeline.yaml, the public URL "
                         "that serves content/")
    return base_url.rstrip("/") + "/" + quote(posix.as_posix())
