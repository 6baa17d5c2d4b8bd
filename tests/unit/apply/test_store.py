"""The state store: journal replay, crash leftovers, atomic snapshots, the lock."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline.errors import UserError
from pipeline.apply.store import StateStore
from pipeline.files import atomic_write

from pipeline.model.journal import Intent, Published

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


@pytest.mark.parametrize("line, what", [
    ('{"op": "teleport", "address": "p/a"}', "unknown event 'teleport'"),
    ('{"op": "published", "address": "p/a"}', "published event: "),
    ('{"op": "move", "address": "p/a", "to": "p/b", "colour": "red"}', "unknown field(s) colour"),
    ('[1, 2]', "not a JSON object"),
    ('{"op": "published", "address": 7, "type": "t", "identity": "i", "digest": "d", "result": {}, "at": "x"}',
     "address must be a string"),
    ('{"op": "deleted", "address": "p/a", "at": "yesterday"}', "deleted event: "),
    ('{not json', "not JSON"),
])
def test_a_damaged_journal_line_is_reported_at_its_line_never_as_a_traceback(
        tmp_path: Path, line: str, what: str) -> None:
    store = StateStore(tmp_path / "state.json", "acme")
    live = store.load()
    store.commit(live, published("p/a"))
    with open(store.journal_path, "a") as fh:
        fh.write(line + "\n")
        fh.write(json.dumps(published("p/b").to_json()) + "\n")  # a line after it: not a torn tail
    with pytest.raises(UserError) as err:
        StateStore(tmp_path / "state.json", "acme").load()
    [diagnostic] = err.value.diagnostics
    assert str(diagnostic.location) == f"{store.journal_path}:2:1"
    assert what in diagnostic.message and "journal is damaged" in diagnostic.message


def test_every_event_kind_survives_the_journal_round_trip(tmp_path: Path) -> None:
    from pipeline.model.journal import (Accepted, Deleted, Edited, Failed, Forgotten, Moved, Resolved,
                                        parse_event)

    events = [intent(), published("p/a"), Edited("p/a", digest="sha256:2", at="2026-12-01T10:00:00+00:00",
                                                  request={"message": "hi"}),
              Accepted("p/a", digest="sha256:3"), Moved("p/a", to="p/b"),
              Deleted("p/b", at="2026-12-01T11:00:00+00:00"), Failed("p/c", at="2026-12-01T11:00:00+00:00"),
              Resolved("p/d", at="2026-12-01T11:00:00+00:00", result={"post_id": "4"}), Forgotten("p/b")]
    for event in events:
        assert parse_event(json.loads(json.dumps(event.to_json()))) == event
    store = StateStore(tmp_path / "state.json", "acme")
    live = store.load()
    for event in events:
        store.commit(live, event)
    assert StateStore(tmp_path / "state.json", "acme").load() == live


def test_a_sync_covers_every_line_written_before_it_and_only_those(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Group commit: threads share fsyncs, but a line is never reported durable before an
    fsync that began after it was written (the real fsync runs; it is only counted)."""
    store = StateStore(tmp_path / "state.json", "acme")
    state = store.load()
    fsyncs: list[int] = []
    real_fsync = os.fsync

    def counted(fd: int) -> None:
        fsyncs.append(store.written)  # the lines in the file when this fsync began
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counted)
    store.commit(state, intent("p/a"), durable=False)
    first = store.written
    store.commit(state, intent("p/b"), durable=False)
    second = store.written
    store.sync(second)
    store.sync(first)  # covered by the fsync made for the later line
    assert fsyncs == [2]
    store.commit(state, intent("p/c"), durable=False)
    store.sync(second)
    assert fsyncs == [2]
    store.sync(store.written)
    store.commit(state, intent("p/d"))  # durable: an fsync of its own
    assert fsyncs == [2, 3, 4]
    assert set(StateStore(tmp_path / "state.json", "acme").load().resources) == {"p/a", "p/b", "p/c", "p/d"}


def test_threads_committing_at_once_all_return_durable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    store = StateStore(tmp_path / "state.json", "acme")
    state = store.load()
    lock = threading.Lock()
    fsyncs: list[int] = []
    real_fsync = os.fsync

    def counted(fd: int) -> None:
        fsyncs.append(store.written)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counted)
    returned: list[tuple[int, int]] = []  # (line, fsyncs that had begun covering it by the return)

    def commit(n: int) -> None:
        for k in range(20):
            with lock:
                store.commit(state, intent(f"p/{n}-{k}"), durable=False)
                mine = store.written
            store.sync(mine)
            returned.append((mine, sum(1 for covered in list(fsyncs) if covered >= mine)))

    threads = [threading.Thread(target=commit, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(returned) == 160 and all(covering >= 1 for _, covering in returned)
    assert len(fsyncs) <= 160 and fsyncs == sorted(fsyncs)
    assert len(StateStore(tmp_path / "state.json", "acme").load().resources) == 160
