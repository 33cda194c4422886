"""A worker task run on demand that pauses while it backs off after a failure.

Shared by the queues that deliver to other parties (the federation sender's queue per
destination, the application-service pusher's queue per service): ``wake`` starts the
task unless it runs already, is backing off or the owner stopped; ``_start_backoff``
pauses it for a while; ``_end_backoff`` ends the pause early (the party is back).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass


class BackoffWorker:
    def __init__(self) -> None:
        self.backing_off = False
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None

    def _running(self) -> bool:
        """Whether the owner still runs (no new work starts once it stops)."""
        raise NotImplementedError

    async def _run(self) -> None:
        """One run of the worker; it must end with ``self._task = None``."""
        raise NotImplementedError

    def wake(self) -> None:
        if self._task is not None or self.backing_off or not self._running():
            return
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self._cancel_timer()
        task = self._task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _start_backoff(self, delay_ms: int) -> None:
        self.backing_off = True
        self._cancel_timer()
        self._timer = asyncio.get_running_loop().call_later(delay_ms / 1000, self._backoff_over)

    def _backoff_over(self) -> None:
        self._timer = None
        self.backing_off = False
        self.wake()

    def _end_backoff(self) -> bool:
        """Stop waiting (without waking); whether a backoff was running."""
        self._cancel_timer()
        was_backing_off = self.backing_off
        self.backing_off = False
        return was_backing_off

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Exponential: ``min_ms`` after the first failure, times ``multiplier`` after each
    further one, at most ``max_ms``."""

    min_ms: int = 2_000
    max_ms: int = 5 * 60_000
    multiplier: float = 2.0

    def next_interval(self, previous_ms: int) -> int:
        if previous_ms <= 0:
            return self.min_ms
        return int(min(self.max_ms, max(self.min_ms, previous_ms * self.multiplier)))
