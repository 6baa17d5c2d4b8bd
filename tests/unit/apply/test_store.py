"""The state store: journal replay, crash leftovers, atomic snapshots, the lock."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline.errors import UserError
from pipeline.apply.store import StateStore
from pipeline.files import atomic_write

from pipeline.model.state import Intent, Published

WHAT = {"type": "twitter.post", "identity": "acme", "digest": "sha256:1"}


def intent(address: str = "p/a") -> Intent:
    return Intent(address, verb="create", at="2026-12-01T09:00:00+00:00", **WHAT)


def published(address: str, at: str = "2026-12-01T09:00:00+00:00", post_id: str = "1") -> Published:
    return Published(address, result={"post_id": post_id}, at=at, **WHAT)


def test_a_missing_state_gets_its_lineage_when_first_written(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.json", "acme")
    state = store.load()
    assert state.resources == {} and state.serial == 0 and state.lineage == ""
    store.save(state)
    again = store.load()
    assert len(again.lineage) == 36 and again.serial == 1
    store.save(again)
    assert store.load().lineage == again.lineage


def test_journal_is_replayed_and_intent_without_outcome_reads_as_unknown(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.json", "acme")
    live = store.load()
    store.commit(live, intent())
    store.commit(live, intent("p/b"))
    store.commit(live, published("p/b", at="2026-12-01T09:00:01+00:00", post_id="7"))
    state = StateStore(tmp_path / "state.json", "acme").load()  # as a new process would
    assert state.resources["p/a"].status == "unknown"
    assert state.resources["p/b"].status == "published"
    assert state.resources["p/b"].result == {"post_id": "7"}


def test_a_last_line_cut_short_by_a_crash_is_ignored(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.json", "acme")
    store.commit(store.load(), intent())
    with open(store.journal_path, "a") as fh:
        fh.write('{"op": "published", "addr')
    assert StateStore(tmp_path / "state.json", "acme").load().resources["p/a"].status == "unknown"


def test_save_compacts_the_journal_bumps_the_serial_and_is_deterministic(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.json", "acme")
    state = store.load()
    for address in ("p/b", "p/a"):
        store.commit(state, published(address))
    state = StateStore(tmp_path / "state.json", "acme").load()
    store.save(state)
    assert not store.journal_path.exists()
    text = store.path.read_text()
    doc = json.loads(text)
    assert doc["serial"] == 1 and list(doc["resources"]) == ["p/a", "p/b"]
    store.save(store.load())
    assert store.path.read_text() == text.replace('"serial": 1', '"serial": 2')


def test_a_state_of_another_site_is_refused(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.json", "acme")
    store.save(store.load())
    with pytest.raises(UserError, match="belongs to site 'acme'"):
        StateStore(tmp_path / "state.json", "other").load()


def test_a_damaged_state_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text('{"format_version": 1}')
    with pytest.raises(UserError, match="state file is damaged"):
        StateStore(tmp_path / "state.json", "acme", shown="state/state.json").load()


def test_atomic_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    atomic_write(tmp_path / "f.json", "{}\n")
    assert os.listdir(tmp_path) == ["f.json"]


def test_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.json", "acme")
    with store.locked() as info:
        with pytest.raises(UserError, match=f"lock {info.id} held by pid {os.getpid()}"):
            with StateStore(tmp_path / "state.json", "acme").locked():
                pass
    assert not store.lock_path.exists()
    with store.locked():
        pass


def test_unlock_needs_the_right_id(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.json", "acme")
    store.lock_path.write_text(json.dumps({"id": "abc"}))
    with pytest.raises(UserError, match="not 'xyz'"):
        store.break_lock("xyz")
    store.break_lock("abc")
    assert not store.lock_path.exists()
