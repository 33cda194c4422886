"""The backoff between attempts at an unreachable server: exponential, capped, spread."""

from __future__ import annotations

from federation.sender.backoff import BackoffPolicy

HOUR_MS = 3_600_000


def test_the_wait_doubles_from_the_minimum_up_to_the_cap() -> None:
    policy = BackoffPolicy(jitter=0.0)
    waits = []
    previous = 0
    for _ in range(16):
        previous = policy.next_interval(previous, lambda: 0.5)
        waits.append(previous)
    assert waits[:4] == [10_000, 20_000, 40_000, 80_000]
    assert max(waits) == 24 * HOUR_MS
    assert waits[-1] == 24 * HOUR_MS  # stays at the cap


def test_jitter_spreads_each_wait_both_ways() -> None:
    policy = BackoffPolicy(min_ms=10_000, jitter=0.2)
    assert policy.next_interval(0, lambda: 0.0) == 8_000
    assert policy.next_interval(0, lambda: 0.999999) in range(11_999, 12_001)
    low = policy.next_interval(HOUR_MS, lambda: 0.0)
    high = policy.next_interval(HOUR_MS, lambda: 0.999999)
    assert low == int(2 * HOUR_MS * 0.8) and abs(high - 2 * HOUR_MS * 1.2) < 10
