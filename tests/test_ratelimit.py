"""GCRA rate limiting with an injected clock: bursts, steady rate, exact waits, keys independent."""

from __future__ import annotations

import pytest

from datalever.web.ratelimit import RateLimit, RateLimiter, retry_after_header

SECOND = 1_000_000_000


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000 * SECOND

    def __call__(self) -> int:
        return self.now


def test_burst_then_steady_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(rate=2, period_seconds=1.0, burst=3), clock)
    assert [limiter.check("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.check("a")
    assert wait == pytest.approx(0.5)
    assert limiter.check("b") == 0.0  # another key has its own bucket
    clock.now += 490_000_000
    assert limiter.check("a") > 0
    clock.now += 10_000_000
    assert limiter.check("a") == 0.0
    assert limiter.check("a") == pytest.approx(0.5)


def test_refusals_do_not_consume() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(rate=1, period_seconds=10.0, burst=1), clock)
    assert limiter.check("k") == 0.0
    for _ in range(100):
        assert limiter.check("k") == pytest.approx(10.0)
    clock.now += 10 * SECOND
    assert limiter.check("k") == 0.0


def test_idle_key_gets_its_full_burst_back() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(rate=5, period_seconds=1.0, burst=5), clock)
    for _ in range(5):
        assert limiter.check("k") == 0.0
    assert limiter.check("k") > 0
    clock.now += 60 * SECOND
    assert [limiter.check("k") for _ in range(5)] == [0.0] * 5


@pytest.mark.parametrize(("wait", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (59.5, "60")])
def test_retry_after_rounds_up(wait: float, header: str) -> None:
    assert retry_after_header(wait) == header
