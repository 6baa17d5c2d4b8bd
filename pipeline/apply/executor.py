"""The executor: carries out a plan's ``create`` changes, in dependency order, in parallel.

Every request is preceded by an ``intent`` in the state journal and followed by its
outcome, so a crash leaves nothing published unrecorded. An action runs only once
everything it references has been published, and references are filled with the ids
that those actions returned (in this run, or in an earlier one). The executor never
prints: it reports through ``on_event``.
"""

from __future__ import annotations

import heapq
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Literal, Mapping, Protocol

from pipeline import catalog
from pipeline.catalog import Kind
from pipeline.errors import ApiError, OutcomeUnknownError, PipelineError, TransportError
from pipeline.model.plan import Change, Plan
from pipeline.model.state import State
from pipeline.redact import contains_secret, redact
from pipeline.apply.store import StateStore, apply_event


class Publisher(Protocol):
    def push(self, endpoint: catalog.Endpoint, token: str, values: Mapping[str, Any]) -> dict[str, Any]: ...


Outcome = Literal["published", "failed", "unknown", "skipped"]


@dataclass(frozen=True)
class Event:
    """Progress of one address, for the CLI to show."""

    address: str
    outcome: Outcome | Literal["started"]
    detail: str = ""
    result: Mapping[str, str] = field(default_factory=dict)


@dataclass
class ApplyResult:
    published: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.failed or self.unknown or self.skipped)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Executor:
    """Runs one plan against one publisher, recording into one state store."""

    def __init__(self, plan: Plan, state: State, store: StateStore, publisher: Publisher,
                 tokens: Mapping[str, str], *, parallelism: int = 8,
                 per_identity: Mapping[str, int] | None = None,
                 on_event: Callable[[Event], None] = lambda e: None,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        self.plan = plan
        self.state = state
        self.store = store
        self.publisher = publisher
        self.tokens = tokens  # identity name -> identity token
        self.parallelism = max(1, parallelism)
        #: At most this many requests in flight for one identity (default: no bound).
        self.per_identity = per_identity or {}
        self.on_event = on_event
        self.clock = clock
        self._state_lock = threading.Lock()
        #: Set when OneAll refuses the keys: every further request would fail alike.
        self._halt: str | None = None

    def run(self) -> ApplyResult:
        result = ApplyResult()
        todo = {c.address: c for c in self.plan.changes if c.kind == "create"}
        # Kahn's algorithm over the changes to make: an address becomes ready when
        # every address it references within this run has been published.
        users: dict[str, list[str]] = {a: [] for a in todo}
        missing: dict[str, int] = {}
        for address, change in todo.items():
            inside = [d for d in change.depends_on if d in todo]
            missing[address] = len(inside)
            for dep in inside:
                users[dep].append(address)
        ready = [a for a, n in missing.items() if n == 0]
        heapq.heapify(ready)
        running: dict[Future[Outcome], str] = {}
        busy: dict[str, int] = {}  # requests in flight per identity
        with ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="apply") as pool:
            while ready or running:
                deferred: list[str] = []
                while ready and len(running) < self.parallelism:
                    address = heapq.heappop(ready)
                    identity = todo[address].identity
                    if busy.get(identity, 0) >= self.per_identity.get(identity, self.parallelism):
                        deferred.append(address)  # that account is at its bound: later
                        continue
                    why = self._halt or self._unresolvable(todo[address])
                    if why:
                        self._skip(address, why, users, result)
                    else:
                        busy[identity] = busy.get(identity, 0) + 1
                        running[pool.submit(self._one, todo[address], result)] = address
                for address in deferred:
                    heapq.heappush(ready, address)
                if not running:
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: running[f]):
                    address = running.pop(future)
                    busy[todo[address].identity] -= 1
                    if future.result() != "published":  # .result() re-raises a bug
                        for user in users[address]:
                            self._skip(user, f"references {address}, which was not published",
                                       users, result)
                        continue
                    for user in users[address]:
                        missing[user] -= 1
                        if missing[user] == 0:
                            heapq.heappush(ready, user)
        return result

    def _skip(self, address: str, why: str, users: Mapping[str, list[str]],
              result: ApplyResult) -> None:
        """Skip ``address`` and, transitively, everything that references it."""
        if address in result.skipped:
            return
        result.skipped[address] = why
        self.on_event(Event(address, "skipped", why))
        for user in users[address]:
            self._skip(user, f"references {address}, which was not published", users, result)

    def _unresolvable(self, change: Change) -> str | None:
        """Why a reference cannot be filled, if it cannot (called once its deps are done)."""
        for dep in change.depends_on:
            if self._id_of(dep) is None:
                return f"references {dep}, which has no published id (pipeline state resolve can set it)"
        return None

    def _id_of(self, address: str) -> str | None:
        with self._state_lock:
            record = self.state.resources.get(address)
        if record is None or record.status != "published":
            return None
        return record.result.get(catalog.BY_TYPE[record.type].id_field)

    def _resolve(self, change: Change) -> dict[str, Any]:
        endpoint = catalog.BY_TYPE[change.type]

        def fill(value: Any) -> Any:
            if isinstance(value, dict) and "ref" in value:
                filled = self._id_of(value["ref"])
                if filled is None:
                    raise PipelineError(f"{change.address}: {value['ref']} has no id")
                return filled
            return value

        values: dict[str, Any] = {}
        for name, value in change.request.items():
            kind = endpoint.by_name[name].kind
            values[name] = [fill(v) for v in value] if kind is Kind.ID_LIST else fill(value)
        return values

    def _record(self, event: dict[str, Any]) -> None:
        """Journal ``event`` durably (before returning) and fold it into the state."""
        with self._state_lock:
            self.store.append(event)
            apply_event(self.state, event)
        self.store.sync()  # outside the lock: one fsync may cover several threads' events

    def _one(self, change: Change, result: ApplyResult) -> Outcome:
        address = change.address
        endpoint = catalog.BY_TYPE[change.type]
        values = self._resolve(change)
        self.on_event(Event(address, "started"))
        base = {"address": address, "type": change.type, "identity": change.identity,
                "digest": change.digest}
        attempted = self.clock().isoformat(timespec="seconds")
        intent: dict[str, Any] = {**base, "op": "intent", "at": attempted}
        # What was sent lets apply read the post back if the answer is lost; a value
        # holding a secret is not written down (and that post is settled by hand).
        if not contains_secret(values):
            intent["sent"] = values
        if change.replace and change.record is not None:
            intent["replaces"] = change.record.model_dump(mode="json", exclude_none=True)
        self._record(intent)
        try:
            data = self.publisher.push(endpoint, self.tokens[change.identity], values)
        except (ApiError, TransportError) as exc:
            # OneAll said no, or the request never left: surely not published.
            self._record({**base, "op": "failed", "at": attempted})
            detail = f"{exc.code} {exc.info}" if isinstance(exc, ApiError) else str(exc)
            if isinstance(exc, ApiError) and exc.code == 401:
                self._halt = "not sent: OneAll refused the API keys (401)"
            elif isinstance(exc, TransportError):
                self._halt = "not sent: OneAll could not be reached"
            with self._state_lock:
                result.failed[address] = detail
            self.on_event(Event(address, "failed", detail))
            return "failed"
        except Exception as exc:  # noqa: BLE001 - OutcomeUnknownError, or anything unforeseen
            # Once the intent is written, an error we cannot classify may have come after
            # the request left: the only safe reading is "unknown", and the run goes on.
            detail = str(exc) if isinstance(exc, OutcomeUnknownError) else \
                f"unexpected {type(exc).__name__}: {redact(str(exc))}"
            with self._state_lock:
                result.unknown[address] = detail
            self.on_event(Event(address, "unknown", detail))
            return "unknown"
        ids = {k: str(v) for k, v in data.items() if k not in catalog.RESULT_ENVELOPE_FIELDS}
        self._record({**base, "op": "published", "result": ids,
                      "at": self.clock().isoformat(timespec="seconds"), "attempted_at": attempted})
        with self._state_lock:
            result.published.append(address)
        self.on_event(Event(address, "published", result=ids))
        return "published"
