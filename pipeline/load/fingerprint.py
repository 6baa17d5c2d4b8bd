"""Which manifests changed since the last run: each one's content digest, and the key of
everything else its result depends on.

Finding the changed files is the floor of every plan, so it must cost a ``stat`` per
file, not a read and a hash (a read costs ten times a stat on ten thousand files). A
table of file stats (``.pipeline/cache/files.marshal``, a MAC'd blob like the rest of the
cache) remembers each manifest's digest with the file's real path, inode, size, mtime
and ctime, as git's index does. A file whose stat still matches is not read again.

Why that is safe where size and mtime alone are not: ``cp -p``, ``rsync -a`` and ``tar``
can give an edited file its old size and mtime, but no program can set its ctime, which
the kernel moves to the present on every write, rename or ``utime``. The one trap is an
edit within the clock's granularity of the moment its stat was taken (git's "racy
clean" files): a stat is recorded only for a file whose ctime and mtime are older than
``RACY_NS``, so a later edit surely moves them. A stat that does not match only costs
a read and a hash.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import stat
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pipeline import __version__
from pipeline.errors import Diagnostic, Refused
from pipeline.load.blobs import read_blob, write_blob
from pipeline.load.bounds import MAX_TEMPLATE_BYTES
from pipeline.load.project import PRIVATE_DIR, Project
from pipeline.load.reads import opened, read_capped
from pipeline.load.source import MAX_FILE_BYTES

#: Bumped when what a result depends on, or how it is stored, changes.
CACHE_FORMAT = 3
#: A file changed this recently may change again within the same clock tick: its stat
#: is not trusted next time.
RACY_NS = 2_000_000_000
_TABLE = Path("cache") / "files.marshal"
_STAMPS = Path("cache") / "stamps.marshal"
_STAMP = struct.Struct("<qqqq")  # inode, size, mtime and ctime in nanoseconds
#: The table is written again only when enough of it went stale: a few edited files
#: are cheaper to hash again than a table of ten thousand entries is to write.
_REWRITE_AT = 16


@dataclass(frozen=True)
class Fingerprint:
    """What a project's compiled result depends on: the context key, and each manifest's
    content digest, in order; with where each file really is, and what the scan refused."""

    context: str
    digests: dict[str, str]
    real: dict[str, str] = field(default_factory=dict)
    problems: tuple[Diagnostic, ...] = ()

    def key(self) -> str:
        # One marshalled list hashed at once: ten thousand hash updates cost ten times more.
        digest = hashlib.sha256(self.context.encode())
        digest.update(marshal.dumps(list(self.digests.items())))
        return digest.hexdigest()


def fingerprint(project: Project) -> Fingerprint:
    """Every manifest's digest: from the stat table where the file is untouched, read
    (never more than a manifest's cap) and hashed otherwise. Only what a scan of
    ``content/`` let through is read; a file refused here is compiled again, which words
    the refusal."""
    listing = project.survey()
    path = project.root / PRIVATE_DIR / _TABLE
    table = read_blob(path)
    # One bytes per file: its stat (32 bytes), its digest (32) and its real path. Ten
    # thousand tuples of six would cost more to load than the stats they save.
    known: dict[str, bytes] = \
        table.get("files", {}) if isinstance(table, dict) and table.get("format") == CACHE_FORMAT else {}
    digests: dict[str, str] = {}
    fresh: dict[str, bytes] = {}
    stale = 0
    settled = time.time_ns() - RACY_NS
    for shown in listing.manifests:
        real = listing.real[shown]
        try:
            info = os.stat(real)
        except OSError:
            info = None
        if info is not None:
            stamp = _STAMP.pack(info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
            entry = known.get(shown)
            if entry is not None and entry[:32] == stamp and entry[64:] == real.encode():
                digests[shown] = entry[32:64].hex()
                fresh[shown] = entry
                continue
        stale += 1
        try:
            raw = hashlib.sha256(read_capped(real, MAX_FILE_BYTES, checked=True)).digest()
        except Refused as refused:
            digests[shown] = f"refused: {refused.message}"
            continue
        digests[shown] = raw.hex()
        if info is not None and max(info.st_mtime_ns, info.st_ctime_ns) < settled:
            fresh[shown] = stamp + raw + real.encode()
    # Writing the table costs about what hashing a sixteenth of the files does.
    kept = len(listing.manifests) - stale
    if (len(fresh) - kept) * _REWRITE_AT >= len(fresh) or len(known) - kept >= _REWRITE_AT:
        write_blob(path, {"format": CACHE_FORMAT, "files": fresh})
    # What the scan refused is part of the context: a plan remembered before a FIFO or
    # a symlink leading out appeared is not the plan of the project now.
    context = _context_key(project, listing.others, listing.real, listing.problems)
    return Fingerprint(context, digests, listing.real, tuple(listing.problems))


def known_digest(root: Path, path: str, digest: Callable[[str], str | None]) -> str | None:
    """``digest(path)``, remembered by the file's stat as the manifests' digests are: a
    state snapshot of a hundred megabytes is hashed once per version, not at every plan."""
    try:
        info = os.lstat(path)
    except OSError:
        return digest(path)
    if not stat.S_ISREG(info.st_mode):
        return digest(path)  # a link or a FIFO: the digest function says what it is
    stamp = _STAMP.pack(info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns) + path.encode()
    table = root / PRIVATE_DIR / _STAMPS
    known = read_blob(table)
    if isinstance(known, dict) and isinstance(known.get(stamp), str):
        return str(known[stamp])
    value = digest(path)
    if value is not None and max(info.st_mtime_ns, info.st_ctime_ns) < time.time_ns() - RACY_NS:
        write_blob(table, {stamp: value})
    return value


def _context_key(project: Project, others: list[str], real: dict[str, str],
                 refused: list[Diagnostic]) -> str:
    """What every result depends on besides its own file: this code, the configuration,
    the templates (by content) and the media files (by size and format: only their
    existence, size and format matter), and what the scan refused."""
    digest = hashlib.sha256(f"{CACHE_FORMAT}:{__version__}:{_code_digest()}:".encode())
    digest.update(project.config.model_dump_json().encode())
    templates = f"{project.shown(project.templates_dir)}/"
    for shown in others:
        if shown.startswith(templates):
            try:
                content = hashlib.sha256(read_capped(real[shown], MAX_TEMPLATE_BYTES, checked=True)).hexdigest()
            except Refused as why:
                content = f"refused: {why.message}"
            digest.update(f"{shown}:{content}\n".encode())
        else:
            # By size and first bytes (the format): not by time, which every checkout
            # changes, so that a cache restored in CI stays warm.
            try:
                with opened(real[shown], checked=True) as (fd, info):
                    head = os.read(fd, 16)
            except (Refused, OSError):
                continue
            digest.update(f"{shown}:{info.st_size}:{head.hex()}\n".encode())
    for problem in refused:
        digest.update(f"refused {problem}\n".encode())
    return digest.hexdigest()


_CODE: list[str] = []


def _code_digest() -> str:
    """A digest of this package's own source: a fix to validation or rendering must not
    be hidden by results cached by the code before it (the version alone moves rarely).
    The whole package, not only ``load/``: the catalogue and the models shape a result
    too. About a hundred small files: a few milliseconds."""
    if not _CODE:
        digest = hashlib.sha256()
        package = Path(__file__).resolve().parent.parent
        for folder, dirs, files in sorted(os.walk(package)):
            dirs.sort()
            for name in sorted(files):
                if name.endswith(".py"):
                    with open(os.path.join(folder, name), "rb") as fh:
                        digest.update(fh.read())
        _CODE.append(digest.hexdigest())
    return _CODE[0]
