"""Token-bucket rate limiting, per user (access token) or per IP address.

spec: client-server "Rate limiting" — a limited request gets 429
``M_LIMIT_EXCEEDED`` with ``retry_after_ms``.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeserver.clock import Clock


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated_ms: int


class TokenBucketLimiter:
    """``rate`` actions per second on average, bursts of up to ``burst``."""

    def __init__(self, rate: float, burst: int, clock: Clock, max_keys: int = 100_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def check(self, key: str) -> int | None:
        """Take one token for ``key``: ``None`` if allowed, else ms until one is free."""
        now = self.clock.time_ms()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        else:
            elapsed = max(0, now - bucket.updated_ms) / 1000
            bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate)
            bucket.updated_ms = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return max(1, int((1 - bucket.tokens) / self.rate * 1000))

    def _prune(self, now: int) -> None:
        """Forget buckets that have refilled completely (they hold no information)."""
        full_after_ms = self.burst / self.rate * 1000
        stale = [k for k, b in self._buckets.items() if now - b.updated_ms >= full_after_ms]
        for key in stale:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:  # still full: drop the oldest half
            oldest = sorted(self._buckets, key=lambda k: self._buckets[k].updated_ms)
            for key in oldest[: len(oldest) // 2]:
                del self._buckets[key]
