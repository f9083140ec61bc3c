"""Per-key rate limits with GCRA (the generic cell rate algorithm, documented in the ATM Forum's
Traffic Management 4.0 specification; the algorithm behind redis-cell, for example).

Why GCRA: it is a token bucket stored as one number per key (the "theoretical arrival time", TAT), so a
check is one dict lookup and one comparison, it needs no background refill, and the wait it reports is
exact, which is what `Retry-After` needs. The clock is injected so tests are deterministic.

A limit of `rate` requests per `period_seconds` with `burst` allows `burst` requests at once, then one every
`period_seconds / rate`. Limits are per process: with N workers a key may get up to N times the burst
(documented in docs/operations.md); that bounds abuse without a shared store on the hot path.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock


@dataclass(frozen=True)
class RateLimit:
    """`rate` requests per `period_seconds`, at most `burst` at once."""

    rate: int
    period_seconds: float
    burst: int

    def __post_init__(self) -> None:
        assert self.rate > 0 and self.period_seconds > 0 and self.burst > 0

    @property
    def interval_ns(self) -> int:
        return max(1, round(self.period_seconds * 1e9 / self.rate))


class RateLimiter:
    """GCRA per key; `check(key)` returns 0.0 when the request may go, else the seconds to wait."""

    MAX_KEYS = 100_000  # bound memory: idle keys are dropped when the table is full

    def __init__(self, limit: RateLimit, clock: Callable[[], int] = time.monotonic_ns) -> None:
        self.limit = limit
        self.clock = clock  # integer nanoseconds, so waits are exact
        self._tat: dict[str, int] = {}
        self._lock = Lock()

    def check(self, key: str) -> float:
        interval = self.limit.interval_ns
        tolerance = interval * (self.limit.burst - 1)
        with self._lock:
            now = self.clock()
            tat = max(self._tat.get(key, now), now)
            allowed_at = tat - tolerance
            if now < allowed_at:
                return (allowed_at - now) / 1e9
            if len(self._tat) >= self.MAX_KEYS:
                self._tat = {k: v for k, v in self._tat.items() if v > now}
            self._tat[key] = tat + interval
            return 0.0


def retry_after_header(wait_seconds: float) -> str:
    """`Retry-After` in whole seconds, rounded up (never 0 for a refusal)."""
    assert wait_seconds > 0
    return str(max(1, math.ceil(wait_seconds)))
