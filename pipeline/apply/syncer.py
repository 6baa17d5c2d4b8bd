"""The syncer: makes an apply's outcomes durable off the threads that send and schedule.

An outcome must be on disk before it is reported, but neither the worker that got it
(its next request would wait) nor the scheduler (every request would) should wait for
the disk: a thread of its own fsyncs when asked, and most of the time finds that an
fsync made for another request's intent has covered the outcome already.
"""

from __future__ import annotations

import threading
import time
from queue import SimpleQueue
from typing import Any

from pipeline.apply.store import StateStore


class Syncer:
    """A thread that fsyncs the journal when asked, then puts None in ``told``: outcomes
    become durable without their worker or the scheduler waiting for the disk."""

    #: Seconds it waits, once asked, for an fsync made for an intent to cover the lines
    #: it was asked about: then it makes none of its own, and the disk has one less to do.
    linger = 0.002

    def __init__(self, store: StateStore, told: SimpleQueue[Any]) -> None:
        self.store, self.told = store, told
        self._asked = threading.Event()
        self._stop = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="apply-sync", daemon=True)

    def __enter__(self) -> Syncer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        self._asked.set()
        self._thread.join()

    def ask(self) -> None:
        self._asked.set()

    def check(self) -> None:
        """Raise what made the syncer stop (a disk that refuses to sync)."""
        if self._error is not None:
            raise self._error

    def _loop(self) -> None:
        while True:
            self._asked.wait()
            self._asked.clear()
            if self._stop:
                return
            asked = self.store.written  # every line it was asked about is counted here
            time.sleep(self.linger)
            try:
                self.store.sync(asked)
            except BaseException as exc:  # noqa: BLE001 - handed to the scheduler, which raises it
                self._error = exc
                self._stop = True
            self.told.put(None)
