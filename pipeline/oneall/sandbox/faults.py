"""Misbehaviour on purpose: the failures a client of OneAll must survive, made testable.

Before acting, a request may be refused with 429 (with ``Retry-After``), 500 or 503
(OneAll's envelope, so a client can tell that OneAll itself did not process it).
After acting, a POST, PUT or DELETE may answer only after a long delay (a "ghost":
carried out, answered too late), and any request may be answered by a gateway's HTML
502 instead of OneAll's answer (the outcome of what was sent is then unknown).
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass
class Faults:
    """Misbehaviour on purpose, each a share of requests between 0 and 1."""

    latency: float = 0.0  # seconds from a request to its answer, the sandbox's own work included
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_503: float = 0.0  # OneAll's envelope, code 503: not carried out
    ghost: float = 0.0  # carry out a POST, PUT or DELETE, then answer only after ``ghost_delay``
    ghost_delay: float = 5.0
    retry_after: int = 1
    gateway_502: float = 0.0  # carried out, then a proxy's HTML 502 instead of the answer

    def refusal(self, rng: random.Random) -> tuple[int, str] | None:
        """The code and info of a refusal before acting, or None (one draw always)."""
        draw = rng.random()
        for code, rate, info in ((429, self.rate_429, "Too many requests"),
                                 (500, self.rate_500, "Internal error"),
                                 (503, self.rate_503, "Service overloaded: the request was not processed")):
            if draw < rate:
                return code, info
            draw -= rate
        return None


def draw(rng: random.Random, rate: float) -> bool:
    """True for a share ``rate`` of calls. No draw when the rate is 0, so that a seeded
    sandbox without this fault keeps its sequence."""
    return bool(rate) and rng.random() < rate
