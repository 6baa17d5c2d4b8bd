"""The executor's ready queues: one per identity, each bounded by its requests in flight.

A change is ready once everything it references is done. Keeping one queue per
identity, and offering the scheduler only identities under their bound, makes a bound
cost nothing per request: a backlog of twenty thousand posts for one account is taken
one by one, never rescanned.
"""

from __future__ import annotations

import heapq
from typing import Mapping


class ReadyQueues:
    """Ready changes, one queue per identity, so that an identity at its bound costs
    nothing per request: the scheduler only ever looks at identities that can send."""

    def __init__(self, bounds: Mapping[str, int], default: int) -> None:
        self.bounds, self.default = bounds, default
        self.queues: dict[str, list[str]] = {}
        self.busy: dict[str, int] = {}
        self.open: list[tuple[str, str]] = []  # (smallest ready key, identity), may be stale
        self.size = 0

    def __bool__(self) -> bool:
        return self.size > 0

    def _offer(self, identity: str) -> None:
        queue = self.queues.get(identity)
        if queue and self.busy.get(identity, 0) < self.bounds.get(identity, self.default):
            heapq.heappush(self.open, (queue[0], identity))

    def add(self, identity: str, key: str) -> None:
        heapq.heappush(self.queues.setdefault(identity, []), key)
        self.size += 1
        self._offer(identity)

    def take(self) -> str | None:
        """The smallest ready key of an identity under its bound, if any."""
        while self.open:
            head, identity = heapq.heappop(self.open)
            queue = self.queues.get(identity)
            if not queue or queue[0] != head or \
                    self.busy.get(identity, 0) >= self.bounds.get(identity, self.default):
                continue  # stale: taken since, or the identity reached its bound
            key = heapq.heappop(queue)
            self.size -= 1
            self.busy[identity] = self.busy.get(identity, 0) + 1
            self._offer(identity)
            return key
        return None

    def done(self, identity: str) -> None:
        self.busy[identity] -= 1
        self._offer(identity)
