"""How long to leave an unreachable destination alone before trying it again.

Exponential: the first failure waits ``min_ms``, each further one ``multiplier`` times
the last, never more than ``max_ms`` (before jitter); each wait is spread by
+-``jitter`` so that servers that lost a peer at the same moment do not all retry it at
the same moment.
Any success, or any request from the peer, ends the backoff (``FederationSender``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    min_ms: int = 10_000
    max_ms: int = 24 * 60 * MINUTE_MS
    multiplier: float = 2.0
    jitter: float = 0.2  # each interval is scaled by a factor in [1 - jitter, 1 + jitter]

    def next_interval(self, previous_ms: int, random: Callable[[], float]) -> int:
        """The wait after another failure, ``previous_ms`` being the last wait (0: none).

        ``random()`` draws from [0, 1)."""
        base = self.min_ms if previous_ms <= 0 else previous_ms * self.multiplier
        base = min(self.max_ms, max(self.min_ms, base))
        return int(base * (1 + self.jitter * (2 * random() - 1)))
