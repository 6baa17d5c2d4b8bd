"""Reading a user's file: a regular file inside its folder, its size checked before a byte is read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.errors import Refused
from pipeline.load.reads import read_capped, resolve_inside


def test_a_regular_file_inside_is_read(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"hello")
    assert read_capped(resolve_inside(tmp_path / "a.txt", str(tmp_path), "x/"), 5) == b"hello"


def test_a_symlink_whose_target_stays_inside_is_fine(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub/a.txt").write_bytes(b"inside")
    os.symlink("sub/a.txt", tmp_path / "link.txt")
    assert read_capped(resolve_inside(tmp_path / "link.txt", str(tmp_path), "x/"), 100) == b"inside"


@pytest.mark.parametrize("target", ["/etc/hostname", "/proc/self/environ", "../outside.txt"])
def test_a_symlink_leading_out_is_refused(tmp_path: Path, target: str) -> None:
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(target, root / "evil")
    with pytest.raises(Refused, match="leads out of x/"):
        resolve_inside(root / "evil", str(root), "x/")


def test_a_sibling_folder_sharing_a_prefix_is_outside(tmp_path: Path) -> None:
    (tmp_path / "content-evil").mkdir()
    (tmp_path / "content").mkdir()
    with pytest.raises(Refused):
        resolve_inside(tmp_path / "content-evil", str(tmp_path / "content"), "content/")


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(Refused, match="is a FIFO, not a regular file"):
        read_capped(str(tmp_path / "pipe"), 100)
    with pytest.raises(Refused, match="is a FIFO"):
        read_capped(str(tmp_path / "pipe"), 100, checked=True)  # even when a scan vouched for it


@pytest.mark.parametrize(("path", "kind"), [("/dev/zero", "a character device"), ("/", "a folder")])
def test_a_device_or_a_folder_is_refused(path: str, kind: str) -> None:
    with pytest.raises(Refused, match=f"is {kind}, not a regular file"):
        read_capped(path, 100)


def test_the_size_is_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "sparse"
    path.write_bytes(b"")
    os.truncate(path, 1 << 40)  # a terabyte that costs nothing unless read
    with pytest.raises(Refused, match=f"is {1 << 40} bytes, over the limit of 10"):
        read_capped(str(path), 10)


def test_at_most_the_cap_is_read_from_a_file_that_grows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "grows"
    path.write_bytes(b"x" * 100)
    real_fstat = os.fstat

    def fstat_before_growth(fd: int) -> os.stat_result:  # as if it grew after the check
        info = real_fstat(fd)
        return os.stat_result((info.st_mode, *info[1:6], 5, *info[7:]))

    monkeypatch.setattr(os, "fstat", fstat_before_growth)
    reads: list[int] = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))
    with pytest.raises(Refused, match="over the limit of 10 bytes"):
        read_capped(str(path), 10)
    assert sum(reads) <= 11
