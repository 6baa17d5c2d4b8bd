"""The executor: carries out a plan's creates, updates and deletes, in dependency order, in parallel.

Every request is preceded by an ``Intent`` in the state journal and followed by its
outcome, so a crash leaves nothing published unrecorded. An action runs only once
everything it references has been published, and references are filled with the ids
that those actions returned (in this run, or in an earlier one).

Threads: workers only send requests and commit journal events (under one lock); the
scheduling, the progress events and the result are the calling thread's alone, so the
callback that renders progress is never called from two threads.

Durability: an intent is fsynced before its request is sent. An outcome is appended by
its worker, which goes on at once; it is reported (and what references it may start)
only once an fsync has covered it: often one made for another request's intent, else
the syncer thread's. Until then a crash reads the change back as unknown, as if the
answer had never come. Nothing waits for a disk but the request whose intent it holds.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from queue import SimpleQueue
from typing import Any, Callable, Mapping

from pipeline import catalog, clock
from pipeline.apply.queues import ReadyQueues
from pipeline.apply.results import DONE, ApplyResult, Event, Outcome, Publisher, answer_ids
from pipeline.apply.sending import Sending
from pipeline.apply.store import StateStore
from pipeline.apply.syncer import Syncer
from pipeline.errors import ApiError, OutcomeUnknownError, PipelineError, TransportError
from pipeline.model.plan import Change, Plan
from pipeline.model.journal import Deleted, Edited, Event as JournalEvent, Failed, Intent, Published
from pipeline.model.state import State
from pipeline.plan.graph import dependents
from pipeline.redact import contains_secret, redact


@dataclass(frozen=True)
class _Finished:
    """What a worker returns: the outcome of one change."""

    outcome: Outcome
    detail: str = ""
    result: Mapping[str, str] = field(default_factory=dict)
    #: The journal lines that must be durable before it is reported: its outcome's.
    journaled: int = 0


def _drain(finished: SimpleQueue[Future[_Finished] | None]) -> list[Future[_Finished]]:
    """The futures finished so far, waiting for at least one item (a future, or None)."""
    items = [finished.get()]
    while not finished.empty():
        items.append(finished.get())
    return [item for item in items if item is not None]


class Executor:
    """Runs one plan against one publisher, recording into one state store."""

    def __init__(self, plan: Plan, state: State, store: StateStore, publisher: Publisher,
                 tokens: Mapping[str, str], *, parallelism: int = 8,
                 per_identity: Mapping[str, int] | None = None,
                 on_event: Callable[[Event], None] = lambda e: None,
                 now: Callable[[], datetime] = clock.now) -> None:
        self.plan = plan
        self.state = state
        self.store = store
        self.publisher = publisher
        self.tokens = tokens  # identity name -> identity token
        self.parallelism = max(1, parallelism)
        #: At most this many requests in flight for one identity (default: no bound).
        self.per_identity = per_identity or {}
        self.on_event = on_event
        self.now = now
        self._state_lock = threading.Lock()
        self.sending = Sending(state, self._state_lock, tokens)
        self._mine = threading.local()  # the last journal line the worker thread wrote
        #: Set by a worker when OneAll refuses the keys or cannot be reached: every
        #: further request would fail alike. Written once, read by the scheduler.
        self._halt = threading.Event()
        self._halt_reason = ""

    # ------------------------------------------------------------ scheduling

    def run(self) -> ApplyResult:
        result = ApplyResult()
        todo = {c.key: c for c in self.plan.sending}
        # Kahn's algorithm over the changes to make: a change becomes ready when every
        # address it references within this run has been carried out.
        users = dependents({k: c.depends_on for k, c in todo.items()})
        missing = {k: sum(1 for d in c.depends_on if d in todo) for k, c in todo.items()}
        queue = ReadyQueues(self.per_identity, self.parallelism)
        for key, count in sorted(missing.items()):
            if count == 0:
                queue.add(todo[key].identity, key)
        running: dict[Future[_Finished], str] = {}
        # Workers hand back finished futures through this queue (waking for one costs the
        # same whatever the number in flight); the syncer puts None in it after each fsync.
        finished: SimpleQueue[Future[_Finished] | None] = SimpleQueue()
        unreported: list[tuple[str, _Finished]] = []  # finished, not yet durable
        with Syncer(self.store, finished) as syncer, \
                ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="apply") as pool:

            def fill() -> None:
                """Start ready changes while there is room."""
                while len(running) < self.parallelism and (key := queue.take()) is not None:
                    change = todo[key]
                    why = self._halt_reason if self._halt.is_set() else self.sending.unresolvable(change)
                    if why:
                        queue.done(change.identity)
                        self._skip(key, why, users, result)
                        continue
                    self.on_event(Event(key, "started"))
                    future = pool.submit(self._one, change)
                    running[future] = key
                    future.add_done_callback(finished.put)

            while queue or running or unreported:
                fill()
                if not (running or unreported):
                    continue
                for future in _drain(finished):
                    key = running.pop(future)
                    queue.done(todo[key].identity)  # its account may send its next request now
                    unreported.append((key, future.result()))  # .result() re-raises a bug
                fill()  # the slots just freed, before the reports below take their time
                syncer.check()
                durable = self.store.synced
                ready = sorted((u for u in unreported if u[1].journaled <= durable), key=lambda u: u[0])
                unreported = [u for u in unreported if u[1].journaled > durable]
                if unreported:
                    syncer.ask()
                for key, outcome in ready:
                    self._report(key, outcome, result)
                    if outcome.outcome not in DONE:
                        for user in users[key]:
                            self._skip(user, f"references {key}, which was not published", users, result)
                        continue
                    for user in users[key]:
                        missing[user] -= 1
                        if missing[user] == 0:
                            queue.add(todo[user].identity, user)
        return result

    def _report(self, key: str, finished: _Finished, result: ApplyResult) -> None:
        result.add(key, finished.outcome, finished.detail)
        self.on_event(Event(key, finished.outcome, finished.detail, finished.result))

    def _skip(self, key: str, why: str, users: Mapping[str, list[str]], result: ApplyResult) -> None:
        """Skip ``key`` and, transitively, everything that references it."""
        if key in result.skipped:
            return
        result.skipped[key] = why
        self.on_event(Event(key, "skipped", why))
        for user in users[key]:
            self._skip(user, f"references {key}, which was not published", users, result)

    # ------------------------------------------------------------ one change (a worker)

    def _commit(self, event: JournalEvent, *, durable: bool = True) -> None:
        """Journal ``event`` and fold it into the state; ``durable``: fsynced before returning
        (an outcome is not: it is made durable before it is reported, see ``run``)."""
        with self._state_lock:
            self.store.commit(self.state, event, durable=False)
            self._mine.line = written = self.store.written
        if durable:
            self.store.sync(written)  # outside the lock: one fsync may cover several threads' events

    def _stamp(self) -> str:
        return clock.stamp(self.now())

    def _one(self, change: Change) -> _Finished:
        self._mine.line = 0
        finished = self._carry_out(change)
        return replace(finished, journaled=self._mine.line)

    def _carry_out(self, change: Change) -> _Finished:
        try:
            values = self.sending.values(change)
        except PipelineError as exc:  # before anything is written or sent
            return _Finished("failed", f"not sent: {exc}")
        # Any error from here on, once the intent is written, may have come after the
        # request left: the only safe reading is "unknown", and the run goes on.
        try:
            if change.kind == "create":
                return self._create(change, values)
            if change.kind == "update":
                return self._update(change, values)
            return self._delete(change, values)
        except (ApiError, TransportError) as exc:
            return self._refused(change, exc)
        except Exception as exc:  # noqa: BLE001 - OutcomeUnknownError, or anything unforeseen
            detail = str(exc) if isinstance(exc, OutcomeUnknownError) else \
                f"unexpected {type(exc).__name__}: {redact(str(exc))}"
            if change.kind != "create":
                detail += "; an edit or a delete is safe to send again: the next apply does"
            return _Finished("unknown", detail)

    def _refused(self, change: Change, exc: ApiError | TransportError) -> _Finished:
        """OneAll said no, or the request never left: surely nothing was done."""
        self._commit(Failed(change.address, at=self._stamp(), verb=change.verb), durable=False)
        detail = f"{exc.code} {exc.info}" if isinstance(exc, ApiError) else str(exc)
        if isinstance(exc, ApiError) and exc.code == 401:
            self._halt_reason = "not sent: OneAll refused the API keys (401)"
            self._halt.set()
        elif isinstance(exc, TransportError):
            self._halt_reason = "not sent: OneAll could not be reached"
            self._halt.set()
        return _Finished("failed", detail)

    def _intent(self, change: Change, values: Mapping[str, Any]) -> tuple[str, bool]:
        """Journal the intent; returns when, and whether the change's request holds a secret."""
        attempted = self._stamp()
        # What was sent lets apply read a post back if the answer is lost, and plans show
        # it as "old" later; a request holding a secret is not written down. The values
        # differ from the request only where a reference was filled.
        request_secret = contains_secret(change.request)
        secret = request_secret or (values != change.request and contains_secret(values))
        replaces = change.record.model_dump(mode="json", exclude_none=True) \
            if change.replace and change.record is not None else None
        offset = self.publisher.clock_offset
        self._commit(Intent(
            change.address, verb=change.verb, type=change.type,
            identity=change.identity, digest=change.digest, at=attempted,
            sent=None if secret or change.kind != "create" else dict(values),
            request=None if secret else change.request, replaces=replaces,
            clock_offset=offset.total_seconds() if offset is not None else None))
        return attempted, request_secret

    def _create(self, change: Change, values: dict[str, Any]) -> _Finished:
        endpoint = catalog.BY_TYPE[change.type]
        attempted, secret = self._intent(change, values)
        data = self.publisher.push(endpoint, self.sending.token(change), values)
        ids = answer_ids(endpoint, data)
        self._commit(Published(
            change.address, type=change.type, identity=change.identity, digest=change.digest,
            result=ids, at=self._stamp(), attempted_at=attempted,
            request=None if secret else change.request), durable=False)
        detail = ""
        with self._state_lock:
            record = self.state.resources[change.address]
        if record.superseded is not None:
            # --replace: the new post is up; now the old one goes. If this fails the state
            # keeps it as superseded and the next plan shows the delete still to do.
            detail = self._delete_superseded(change.address)
        return _Finished("published", detail, ids)

    def _delete_superseded(self, address: str) -> str:
        with self._state_lock:
            old = self.state.resources[address].superseded
        assert old is not None
        stand_in = Change(kind="delete", address=address, type=old.type, identity=old.identity,
                          request=old.request or {}, digest=old.digest, record=old, superseded=True)
        try:
            finished = self._delete(stand_in, self.sending.values(stand_in))
        except Exception as exc:  # noqa: BLE001 - the new post is recorded whatever happens here
            return (f"the post it replaced may still be online ({redact(str(exc)) or type(exc).__name__}); "
                    "the next apply deletes it")
        return "and deleted the post it replaced" if finished.outcome == "deleted" else ""

    def _update(self, change: Change, values: dict[str, Any]) -> _Finished:
        endpoint = catalog.BY_TYPE[change.type]
        assert change.record is not None
        _, secret = self._intent(change, values)
        data = self.publisher.edit(endpoint, self.sending.token(change), values, change.record.result)
        self._commit(Edited(change.address, digest=change.digest, at=self._stamp(),
                            request=None if secret else change.request), durable=False)
        return _Finished("edited", "", answer_ids(endpoint, data) or change.record.result)

    def _delete(self, change: Change, values: dict[str, Any]) -> _Finished:
        endpoint = catalog.BY_TYPE[change.type]
        assert change.record is not None
        self._intent(change, values)
        detail = ""
        try:
            self.publisher.delete(endpoint, self.sending.token(change), values, change.record.result)
        except ApiError as exc:
            if exc.code != 404:
                raise
            detail = "already gone (404)"  # what the state records is no longer online
        self._commit(Deleted(change.address, at=self._stamp(), superseded=change.superseded), durable=False)
        return _Finished("deleted", detail)
