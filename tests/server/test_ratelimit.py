"""Token buckets: bursts pass, then M_LIMIT_EXCEEDED with a truthful retry time."""

from __future__ import annotations

import pytest

from homeserver.ratelimit import TokenBucketLimiter

from ..conftest import FakeClock


def test_burst_then_limited_then_refills() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(rate=2, burst=3, clock=clock)
    assert [limiter.check("a") for _ in range(3)] == [None, None, None]
    wait = limiter.check("a")
    assert wait is not None and 400 <= wait <= 500  # one token every 500 ms
    assert limiter.check("b") is None  # keys are independent
    clock.advance(wait)
    assert limiter.check("a") is None
    assert limiter.check("a") is not None


def test_refill_is_capped_at_burst() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(rate=10, burst=2, clock=clock)
    clock.advance(60_000)
    assert [limiter.check("a") is None for _ in range(3)] == [True, True, False]


def test_memory_is_bounded() -> None:
    clock = FakeClock()
    limiter = TokenBucketLimiter(rate=1, burst=1, clock=clock, max_keys=100)
    for i in range(1000):
        limiter.check(f"k{i}")
    assert len(limiter._buckets) <= 100


def test_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError):
        TokenBucketLimiter(rate=0, burst=1, clock=FakeClock())
