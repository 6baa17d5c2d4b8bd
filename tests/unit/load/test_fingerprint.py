"""Finding the changed manifests by their stats is exactly as good as hashing them all."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from pipeline.load import fingerprint as prints
from pipeline.load.project import load_project
from tests.helpers import REPO


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "example"
    shutil.copytree(REPO / "content", root / "content")
    shutil.copy(REPO / "pipeline.yaml", root / "pipeline.yaml")
    # No program can make a ctime older: a shorter racy window, outlived, instead.
    monkeypatch.setattr(prints, "RACY_NS", 50_000_000)
    time.sleep(0.06)
    return root


def digests(root: Path) -> dict[str, str]:
    return prints.fingerprint(load_project(root)).digests


def hashed(root: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the next fingerprint reads and hashes (the others come from the table)."""
    read: list[str] = []
    real = prints.read_capped

    def spy(path: str, cap: int, *, checked: bool = False) -> bytes:
        read.append(os.path.basename(path))
        return real(path, cap, checked=checked)

    monkeypatch.setattr(prints, "read_capped", spy)
    digests(root)
    monkeypatch.setattr(prints, "read_capped", real)
    return read


def test_untouched_files_are_not_read_again_and_give_the_same_digests(
        example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = digests(example)  # hashes everything and records the stats
    assert len(first) > 5
    assert [n for n in hashed(example, monkeypatch) if n.endswith(".yaml")] == []
    assert digests(example) == first
    shutil.rmtree(example / ".pipeline")  # no table: every file hashed, same digests
    assert digests(example) == first


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = example / "content/posts/2026-12-01-launch.yaml"
    before = digests(example)
    assert [n for n in hashed(example, monkeypatch) if n.endswith(".yaml")] == []
    info = path.stat()
    text = path.read_text()
    path.write_text(text.replace("is out!", "is up!!"))  # same size
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # as cp -p or rsync -a would
    assert path.stat().st_size == info.st_size and path.stat().st_mtime_ns == info.st_mtime_ns
    assert "2026-12-01-launch.yaml" in hashed(example, monkeypatch)  # its ctime moved
    after = digests(example)
    shown = "content/posts/2026-12-01-launch.yaml"
    assert after[shown] != before[shown]
    assert {k: v for k, v in after.items() if k != shown} == {k: v for k, v in before.items() if k != shown}


def test_a_file_changed_within_the_racy_window_is_hashed_again_next_time(
        example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prints, "RACY_NS", 2_000_000_000)
    path = example / "content/posts/2026-12-01-launch.yaml"
    path.write_text(path.read_text() + "\n")  # its stamps are now: not trusted yet
    digests(example)
    assert "2026-12-01-launch.yaml" in hashed(example, monkeypatch)


def test_a_forged_table_is_ignored(example: Path) -> None:
    before = digests(example)
    table = example / ".pipeline/cache/files.marshal"
    data = bytearray(table.read_bytes())
    data[-5] ^= 1  # any byte changed: its MAC no longer verifies
    table.write_bytes(bytes(data))
    path = example / "content/posts/2026-12-01-launch.yaml"
    path.write_text(path.read_text().replace("is out!", "is up!!"))
    assert digests(example) != before


def test_a_known_digest_is_remembered_by_stat_and_an_edit_that_keeps_size_and_mtime_is_seen(
        example: Path) -> None:
    state = example / "state.json"
    state.write_text('{"a": 1}\n')
    time.sleep(0.06)  # past the (shortened) racy window
    calls: list[str] = []

    def digest(path: str) -> str:
        calls.append(path)
        return Path(path).read_text()

    (example / ".pipeline/cache").mkdir(parents=True)
    assert prints.known_digest(example, str(state), digest) == '{"a": 1}\n'
    assert prints.known_digest(example, str(state), digest) == '{"a": 1}\n' and len(calls) == 1
    info = state.stat()
    state.write_text('{"a": 2}\n')
    os.utime(state, ns=(info.st_atime_ns, info.st_mtime_ns))  # same size, same mtime: a new ctime
    assert prints.known_digest(example, str(state), digest) == '{"a": 2}\n' and len(calls) == 2
