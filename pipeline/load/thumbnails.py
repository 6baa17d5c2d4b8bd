"""Repository pictures as thumbnails a page can embed: the inverse of ``media.media_url``.

A ``file:`` in a manifest became ``<media_base_url>/<path>``; the preview turns such a
URL back into the file under ``content/`` and embeds it as a ``data:`` URI, so that a
page opened from disk shows it without loading anything. The file is read like every
other user file (inside ``content/``, a regular file, its size capped before reading)
and its type comes from its first bytes, never from its name: only the raster formats
a browser shows are embedded, so nothing a pull request commits can run as SVG or HTML.
A remote URL is never fetched.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from pipeline.errors import Refused
from pipeline.load.media import picture_format
from pipeline.load.reads import read_capped, resolve_inside

#: Embedded per picture at most; a larger file is shown as a link.
MAX_EMBED_BYTES = 256 * 1024
#: What a browser shows, by the format ``picture_format`` reads (TIFF it does not).
_MIME = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "bmp": "image/bmp"}


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """A repository picture: its path under ``content/``, and its ``data:`` URI when it
    could be embedded (else why not)."""

    path: str
    src: str | None = None
    note: str | None = None


def repository_path(url: str, base_url: str | None) -> str | None:
    """The path under ``content/`` that ``url`` was made from, if it was (None: remote)."""
    if not base_url:
        return None
    prefix = base_url.rstrip("/") + "/"
    if not url.startswith(prefix):
        return None
    relative = PurePosixPath(unquote(url[len(prefix):]))
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        return None
    return relative.as_posix()


def thumbnail(content_dir: Path, relative: str, cap: int = MAX_EMBED_BYTES) -> Thumbnail:
    """The picture ``relative`` under ``content_dir`` as a ``data:`` URI, or why not."""
    try:
        root = os.path.realpath(content_dir)
        data = read_capped(resolve_inside(content_dir / relative, root, "content/"), cap)
    except Refused as refused:
        if "over the limit" in refused.message:
            return Thumbnail(relative, note=f"not embedded: larger than {cap // 1024} KB")
        return Thumbnail(relative, note=f"not embedded: the file {refused.message}")
    mime = _MIME.get(picture_format(data[:16]) or "")
    if mime is None:
        return Thumbnail(relative, note="not embedded: not a picture a browser shows")
    return Thumbnail(relative, f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}")
