"""The state file: read, lock, journal, atomic write.

``state.json`` is a snapshot, written atomically (temp file, fsync, ``os.replace``)
with sorted keys so git diffs stay small. During an apply, every event is appended
to ``state.json.journal`` and fsynced before anything relies on it:

- ``intent``: about to send a request for an address (fsynced before it is sent);
- ``published``: OneAll answered with ids (fsynced before it is reported);
- ``failed``: OneAll surely did not publish (an error answer, or nothing was sent).

Loading replays the journal over the snapshot, so a run killed at any moment loses
nothing it reported, and an intent with no outcome reads back as ``unknown``: never
sent again by itself. Recording costs one append, whatever the size of the state.
"""

from __future__ import annotations

import fcntl
import hmac
import json
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from pydantic import ValidationError

from pipeline import clock
from pipeline.errors import BadEvent, Diagnostic, Location, LockedError, UserError
from pipeline.apply import lookup
from pipeline.apply.signature import Signer, digest_of
from pipeline.files import atomic_write, dumps, dumps_line, open_nofollow, read_nofollow, refuse_links
from pipeline.model.journal import Event, parse_event
from pipeline.model.state import State, fold


def serialized(state: State) -> bytes:
    """The snapshot's bytes: one canonical layout, which ``apply.lookup`` relies on."""
    return dumps(state.model_dump(mode="json", exclude_none=True)).encode()


@dataclass(frozen=True)
class LockInfo:
    id: str
    pid: int
    host: str
    since: str


class StateStore:
    """One state file, its journal and its lock."""

    def __init__(self, path: Path, site: str, shown: str | None = None, root: Path | None = None,
                 signer: Signer | None = None) -> None:
        self.path = path
        self.site = site
        self.shown = shown or str(path)
        self.journal_path = path.with_name(path.name + ".journal")
        self.lock_path = path.with_name(path.name + ".lock")
        self.signature_path = path.with_name(path.name + ".sig")
        self._journal: Any = None
        self.written = self.synced = 0  # lines journaled; how many an fsync made durable
        self._sync_lock = threading.Lock()
        #: The MAC the next journal line chains to (see ``Signer.chain``).
        self._chain = digest_of(b"")
        #: With the site's key: every snapshot written is signed, and ``origin.verify``
        #: refuses a state that something other than the pipeline wrote.
        self.signer = signer
        # Everything is opened without following symlinks; folders from the project's
        # root down to the state are checked too (a pull request may plant a link).
        self.root = root

    def check_links(self) -> None:
        """Refuse a symlink anywhere from the project's root down to the state's files."""
        if self.root is not None:
            for path in (self.path, self.journal_path, self.lock_path, self.signature_path):
                refuse_links(path, self.root, self.shown)

    # ------------------------------------------------------------ reading

    def load(self) -> State:
        """The snapshot with the journal replayed over it; a fresh state if none exists."""
        self.check_links()
        return self.parse(read_nofollow(self.path), read_nofollow(self.journal_path))

    def parse(self, snapshot: bytes | None, journal: bytes | None) -> State:
        """The state these bytes hold (as ``load`` reads them from the files)."""
        if snapshot is not None:
            try:
                state = State.model_validate_json(snapshot)
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                raise UserError(Diagnostic(
                    f"state file is damaged: {'.'.join(map(str, first['loc']))}: {first['msg']}",
                    Location(self.shown))) from None
            if state.site != self.site:
                raise UserError(Diagnostic(
                    f"this state belongs to site {state.site!r}, but the configured site is {self.site!r}",
                    Location(self.shown), "check ONEALL_SUBDOMAIN / ONEALL_API_BASE and pipeline.yaml"))
        else:
            state = State(site=self.site)  # its lineage is fixed when it is first written
        self._chain = digest_of(snapshot or b"")
        if journal is not None:
            self._replay(state, journal.decode("utf-8", errors="replace"))
        return state

    def load_for_update(self) -> State:
        """``load``, for a holder of the lock: a crashed run's journal is compacted at once,
        so that new events never follow a line the crash cut short."""
        state = self.load()
        if self.journal_path.exists():
            self.save(state)
        return state

    def _replay(self, state: State, text: str) -> None:
        lines = text.split("\n")
        last = max((n for n, line in enumerate(lines, 1) if line.strip()), default=0)
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            line, _, mac = line.partition("\t")
            if self.signer is not None:
                # Written by a run holding the key, or not at all: a line whose MAC does
                # not follow is forged, unless it is the last one, cut short by a crash.
                expected = self.signer.chain(self._chain, line)
                if not hmac.compare_digest(expected, mac):
                    if number == last:
                        break
                    raise self._damaged(number, "a line that the pipeline did not write (its MAC does "
                                        "not follow the lines before it)")
                self._chain = expected
            try:
                event = parse_event(json.loads(line))
            except json.JSONDecodeError as exc:
                if number >= len(lines) - 1:
                    break  # the last line was cut short by a crash: it never happened
                raise self._damaged(number, f"not JSON ({exc.msg})") from None
            except BadEvent as exc:
                raise self._damaged(number, str(exc)) from None
            try:
                fold(state, event)
            except (ValueError, TypeError) as exc:  # a value pydantic refuses (a bad time)
                raise self._damaged(number, f"{event.op} event: {exc}") from None

    def _damaged(self, number: int, what: str) -> UserError:
        return UserError(Diagnostic(
            f"the state's journal is damaged: {what}", Location(str(self.journal_path), number, 1),
            "a journal is written by apply only; restore it from git, or remove it to "
            "drop what it recorded since the last snapshot"))

    # ------------------------------------------------------------ writing

    @contextmanager
    def locked(self, timeout: float = 0.0) -> Iterator[LockInfo]:
        """Hold the state's lock; fail at once (or after ``timeout``) naming its holder.

        The lock is a file that names its holder, held with ``flock``: the kernel drops a
        killed process's hold, so a crash never leaves the state locked for ever.
        """
        info = LockInfo(str(uuid.uuid4()), os.getpid(), socket.gethostname(), clock.stamp())
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        while True:
            self.check_links()
            fd = open_nofollow(self.lock_path, os.O_CREAT | os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if time.monotonic() >= deadline:
                    raise LockedError(self._held_message()) from None
                time.sleep(0.1)
                continue
            # The holder before us may have removed the file between our open and flock.
            try:
                if os.fstat(fd).st_ino == os.stat(self.lock_path).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, dumps(info.__dict__).encode())
        try:
            yield info
        finally:
            self.lock_path.unlink(missing_ok=True)
            os.close(fd)

    def _held_message(self) -> Diagnostic:
        try:
            held = json.loads(read_nofollow(self.lock_path) or b"")
            who = f"lock {held['id']} held by pid {held['pid']} on {held['host']} since {held['since']}"
        except (OSError, ValueError, KeyError, TypeError):
            who = "a lock whose holder cannot be read"
        return Diagnostic(f"the state is locked: {who}", Location(self.shown),
                          "wait for that run (--lock-timeout SECONDS), or stop it; a lock "
                          "left by a dead run is broken with pipeline state unlock LOCK_ID")

    def break_lock(self, lock_id: str) -> None:
        """Remove the lock file named ``lock_id``, unless a live process holds it."""
        self.check_links()
        raw = read_nofollow(self.lock_path)
        if raw is None:
            raise UserError(Diagnostic("the state is not locked", Location(self.shown)))
        try:
            held = json.loads(raw)
        except ValueError:
            held = {"id": None}
        if not isinstance(held, dict):
            held = {"id": None}
        if held.get("id") != lock_id:
            raise UserError(Diagnostic(f"the lock's id is {held.get('id')!r}, not {lock_id!r}",
                                       Location(str(self.lock_path))))
        fd = open_nofollow(self.lock_path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(Diagnostic(
                f"lock {lock_id} is held by a running process (pid {held.get('pid')}): "
                "stop that run first", Location(self.shown))) from None
        finally:
            os.close(fd)
        self.lock_path.unlink()

    def commit(self, state: State, event: Event, *, durable: bool = True) -> None:
        """Journal ``event`` and fold it into ``state``: the one way the state changes.

        With ``durable=False`` the event is written but not yet fsynced: the caller
        orders commits under its own lock and calls ``sync(store.written)`` outside it,
        so that concurrent requests share their fsyncs instead of queueing for them.
        """
        self._append(event)
        fold(state, event)
        if durable:
            self.sync()

    def _append(self, event: Event) -> None:
        if self._journal is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.check_links()
            fd = open_nofollow(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            self._journal = os.fdopen(fd, "a", encoding="utf-8")
        line = dumps_line(event.to_json())  # JSON escapes a tab: the MAC follows one
        if self.signer is not None:
            self._chain = self.signer.chain(self._chain, line)
            line += "\t" + self._chain
        self._journal.write(line + "\n")
        self._journal.flush()
        self.written += 1  # counted once the line is in the file, so an fsync covers it

    def sync(self, upto: int | None = None) -> None:
        """Make the first ``upto`` events (default: all) durable before returning. Threads
        syncing at once share fsyncs: one that began after a line was written covers it."""
        with self._sync_lock:
            if self.synced < (self.written if upto is None else upto) and self._journal is not None:
                covered = self.written  # every line counted is in the file already
                os.fsync(self._journal.fileno())
                self.synced = covered

    def save(self, state: State) -> None:
        """Write the snapshot (serial bumped) and drop the journal it now contains."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        self.written = self.synced = 0
        state.serial += 1
        if not state.lineage:
            state.lineage = str(uuid.uuid4())
        self._chain = self._write(state)
        lookup.written(self.root, self._chain.removeprefix("sha256:"))
        self.journal_path.unlink(missing_ok=True)
        if self.signer is not None:
            atomic_write(self.signature_path, self.signer.sign(self._chain) + "\n")

    def _write(self, state: State) -> str:
        """Write the snapshot durably; returns its digest (``digest_of``)."""
        snapshot = serialized(state)
        atomic_write(self.path, snapshot)
        return digest_of(snapshot)
