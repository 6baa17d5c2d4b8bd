"""The syncer: makes the journal durable when asked, says so, and never hides a failing disk."""

from __future__ import annotations

import os
from pathlib import Path
from queue import SimpleQueue
from typing import Any

import pytest

from pipeline.apply.store import StateStore
from pipeline.apply.syncer import Syncer
from pipeline.model.journal import Intent


def intent(address: str) -> Intent:
    return Intent(address, verb="create", type="twitter.post", identity="acme", digest="sha256:1",
                  at="2026-12-01T09:00:00+00:00")


def test_when_asked_it_makes_every_line_written_so_far_durable_and_says_so(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.json", "acme")
    state = store.load()
    told: SimpleQueue[Any] = SimpleQueue()
    with Syncer(store, told) as syncer:
        for n in range(3):
            store.commit(state, intent(f"p/{n}"), durable=False)
        assert store.synced == 0
        syncer.ask()
        assert told.get(timeout=10) is None
        assert store.synced == store.written == 3
        syncer.check()
    store.save(state)


def test_a_disk_that_refuses_to_sync_is_raised_to_the_scheduler_not_waited_on(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.json", "acme")
    state = store.load()
    store.commit(state, intent("p/a"), durable=False)
    journal = store._journal
    os.close(journal.fileno())  # the file is gone from under it: fsync fails (EBADF)
    told: SimpleQueue[Any] = SimpleQueue()
    with Syncer(store, told) as syncer:
        syncer.ask()
        assert told.get(timeout=10) is None
        with pytest.raises(OSError):
            syncer.check()
    assert store.synced == 0
    with pytest.raises(OSError):
        journal.close()  # its descriptor was closed already
