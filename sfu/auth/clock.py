"""The SFU's clock, injected (STYLE.md: time comes from an injected clock) so tests can
expire tokens without sleeping."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def time_ms(self) -> int: ...


class SystemClock:
    def time_ms(self) -> int:
        return int(time.time() * 1000)
