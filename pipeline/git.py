"""What git knows: the files changed since a ref, and a file or the whole project as it
was at a ref, for plans that put a pull request's own changes first."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from pipeline.errors import Diagnostic, UserError


def _git(root: Path, *args: str) -> str:
    try:
        # File names are bytes to git: decoded as the file system does (any byte survives).
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=60, check=False,
                              encoding=sys.getfilesystemencoding(), errors="surrogateescape")
    except FileNotFoundError:
        raise UserError(Diagnostic("--changed-since needs git, which is not installed")) from None
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "git failed"
        raise UserError(Diagnostic(f"git {' '.join(args[:2])}: {reason}"))
    return done.stdout


def changed_files(root: Path, ref: str) -> set[str]:
    """Paths (relative to ``root``, POSIX) changed since ``ref``: committed, staged, in the
    working tree, or new and untracked."""
    if ref.startswith("-"):
        raise UserError(Diagnostic(f"--changed-since {ref!r} is not a git ref"))
    _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    # -z: names exactly as they are (no C-quoting of quotes, newlines or non-ASCII).
    diffed = _git(root, "diff", "-z", "--name-only", "--relative", "--no-renames", ref, "--")
    untracked = _git(root, "ls-files", "-z", "--others", "--exclude-standard")
    return {name for name in (diffed + untracked).split("\0") if name}


def file_at(root: Path, ref: str, path: str) -> bytes | None:
    """The bytes of ``path`` (relative to ``root``) at ``ref``; None if it did not exist."""
    try:
        done = subprocess.run(["git", "-C", str(root), "show", f"{ref}:./{path}"], capture_output=True,
                              timeout=60, check=False)
    except FileNotFoundError:
        raise UserError(Diagnostic("--changed-since needs git, which is not installed")) from None
    return done.stdout if done.returncode == 0 else None


def recent_versions(root: Path, path: str, limit: int = 10, edge: int = 4096) -> list[bytes]:
    """The start and end (``edge`` bytes each, a newline between) of ``path`` in the
    newest ``limit`` commits of HEAD that touched it (a commit that removed it gives b""),
    streamed: a state of a hundred megabytes, ten times over, is never held. Empty outside
    a repository or without git."""
    try:
        log = subprocess.run(["git", "-C", str(root), "log", f"-n{limit}", "--format=%H", "--", path],
                             capture_output=True, timeout=60, check=False, text=True)
    except (OSError, subprocess.SubprocessError):
        return []
    if log.returncode != 0:
        return []
    return [_edges(root, sha, path, edge) for sha in log.stdout.split()]


def _edges(root: Path, ref: str, path: str, edge: int) -> bytes:
    with subprocess.Popen(["git", "-C", str(root), "show", f"{ref}:./{path}"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL) as shown:
        assert shown.stdout is not None
        head = shown.stdout.read(edge)
        tail = b""
        while chunk := shown.stdout.read(1 << 20):
            tail = (tail + chunk)[-edge:]
        shown.wait(timeout=60)
    if shown.returncode != 0:
        return b""
    return head + (b"\n" + tail if tail else b"")


def export(root: Path, ref: str, dest: Path, paths: tuple[str, ...] = (),
           max_member: int = 64 * 1024 * 1024) -> None:
    """Write the folder ``root`` (only ``paths`` under it, if given) as it was at ``ref``
    into ``dest``: regular files and folders inside it, each at most ``max_member`` bytes.
    The archive goes through a file, not memory, and a member that a safe unpacking
    refuses (a link leading out, a device) or that is too large is left out."""
    prefix = _git(root, "rev-parse", "--show-prefix").strip()
    tree = f"{ref}:{prefix}" if prefix else f"{ref}^{{tree}}"
    _git(root, "rev-parse", "--verify", "--quiet", tree)
    present = [p for p in paths if _exists_at(root, f"{ref}:{prefix}{p}")] if paths else []
    if paths and not present:
        dest.mkdir(parents=True, exist_ok=True)
        return
    with tempfile.TemporaryFile() as spool:
        try:
            done = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", tree, "--", *present],
                                  stdout=spool, stderr=subprocess.PIPE, timeout=120, check=False)
        except FileNotFoundError:
            raise UserError(Diagnostic("--changed-since needs git, which is not installed")) from None
        if done.returncode != 0:
            raise UserError(Diagnostic(f"git archive {ref}: {done.stderr.decode(errors='replace').strip()}"))
        spool.seek(0)

        def safe(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo | None:
            if member.size > max_member:
                return None
            try:
                return tarfile.data_filter(member, path)
            except tarfile.FilterError:
                return None  # a link leading out, an absolute path: left out, never followed

        with tarfile.open(fileobj=spool) as archive:
            archive.extractall(dest, filter=safe)


def _exists_at(root: Path, spec: str) -> bool:
    """Whether ``ref:path`` names something in git."""
    done = subprocess.run(["git", "-C", str(root), "cat-file", "-e", spec], capture_output=True, timeout=60,
                          check=False)
    return done.returncode == 0
