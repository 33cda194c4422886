"""Who is typing where (spec: client-server "Typing Notifications").

Kept in memory only, as the spec intends ("the server does not remember users who are not
currently typing"): a room's set of typists with an expiry each, and a stream position
bumped on every change so /sync can tell which rooms' lists to send again. A restart
forgets everyone typing, which clients re-announce within their 20-30 s refresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

from homeserver.clock import Clock

if TYPE_CHECKING:
    from homeserver.sync.extensions import SyncContext
    from homeserver.sync.handler import SyncRequest, SyncResult
    from homeserver.sync.notifier import Notifier
    from homeserver.sync.tokens import StreamToken

# The client's timeout, capped so a forgotten typist does not linger for hours.
MAX_TIMEOUT_MS = 120_000
DEFAULT_TIMEOUT_MS = 30_000

# ``(room_id, user_id, typing, timeout_ms)``: every set (refreshes too) and every expiry.
TypingListener = Callable[[str, str, bool, int], None]


class TypingTracker:
    """The typing stream: an in-memory sync extension."""

    stream: str | None = "typing"

    def __init__(self, notifier: Notifier, clock: Clock) -> None:
        self.notifier = notifier
        self.clock = clock
        self._typists: dict[str, dict[str, int]] = {}  # room -> user -> expiry (ms)
        self._changed_at: dict[str, int] = {}  # room -> stream position of its last change
        self._position = 0
        self._expiry: dict[tuple[str, str], asyncio.TimerHandle] = {}
        # Told of every change, refreshes included (federation forwards local users').
        self.listeners: list[TypingListener] = []

    # -- producer -------------------------------------------------------------------

    def set_typing(self, room_id: str, user_id: str, typing: bool, timeout_ms: int) -> None:
        """Start (for ``timeout_ms``) or stop ``user_id`` typing in ``room_id``."""
        for listener in self.listeners:
            listener(room_id, user_id, typing, timeout_ms)
        timer = self._expiry.pop((room_id, user_id), None)
        if timer is not None:
            timer.cancel()
        typists = self._typists.setdefault(room_id, {})
        was_typing = user_id in typists
        if typing:
            timeout_ms = max(0, min(timeout_ms, MAX_TIMEOUT_MS))
            typists[user_id] = self.clock.time_ms() + timeout_ms
            loop = asyncio.get_running_loop()
            self._expiry[(room_id, user_id)] = loop.call_later(
                timeout_ms / 1000, self._expire, room_id, user_id
            )
            if was_typing:
                return  # a refresh: the list did not change
        else:
            if not was_typing:
                return
            del typists[user_id]
        if not typists:
            del self._typists[room_id]
        self._bump(room_id)

    def _expire(self, room_id: str, user_id: str) -> None:
        self._expiry.pop((room_id, user_id), None)
        typists = self._typists.get(room_id)
        if typists is None or user_id not in typists:
            return
        del typists[user_id]
        if not typists:
            del self._typists[room_id]
        self._bump(room_id)
        for listener in self.listeners:
            listener(room_id, user_id, False, 0)

    def _bump(self, room_id: str) -> None:
        self._position += 1
        self._changed_at[room_id] = self._position
        self.notifier.on_stream(rooms=(room_id,))

    def typing_in(self, room_id: str) -> list[str]:
        return sorted(self._typists.get(room_id, ()))

    # -- SyncExtension --------------------------------------------------------------

    def position(self) -> int:
        return self._position

    def _changed_rooms(self, joined: AbstractSet[str], after: int) -> list[str]:
        if after >= self._position:
            return []
        if len(joined) < len(self._changed_at):
            return [r for r in joined if self._changed_at.get(r, 0) > after]
        return [r for r, at in self._changed_at.items() if at > after and r in joined]

    def has_news(
        self, user_id: str, device_id: str, joined: AbstractSet[str], since: StreamToken
    ) -> bool:
        return bool(self._changed_rooms(joined, since.typing))

    async def fill(self, req: SyncRequest, ctx: SyncContext, result: SyncResult) -> None:
        ephemeral = req.filter.room.ephemeral
        if ctx.since is None or ctx.full_state:
            rooms = [r for r in self._typists if r in ctx.joined]  # now typing, nothing else
        else:
            rooms = self._changed_rooms(ctx.joined, ctx.since.typing)
        for room_id in sorted(rooms):
            if not req.filter.room.allows_room(room_id) or not ephemeral.matches(
                "m.typing", room_id=room_id
            ):
                continue
            event: dict[str, Any] = {
                "type": "m.typing",
                "content": {"user_ids": self.typing_in(room_id)},
            }
            result.joined_room(room_id)["ephemeral"]["events"].append(event)
