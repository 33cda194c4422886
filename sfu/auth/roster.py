"""``CallRoster`` (sfu/access.py): who is in a voice channel, published by the SFU's bot as
MatrixRTC membership state in the voice room, so every client (ours, Element Call-aware
ones, other servers' users) sees the channel's participants.

One ``org.matrix.msc3401.call.member`` state event per (user, device), state key
``_{user_id}_{device_id}``: under the auth rules a state key starting with ``@`` must equal
the sender, and the bot sends for everyone; the leading underscore is the MSC3779/MSC4143
convention for owned state keys. Content per MSC4143 (``application`` "m.call",
``call_id`` "" for the room's call, ``scope`` "m.room", ``device_id``, ``focus_active``,
``foci_preferred``) plus ours: ``im.concord.user_id``, ``im.concord.tracks``. Leaving
publishes empty content (MSC3401: an empty call.member is "not in the call").

The voice room's power levels must let the bot send it (Concord voice rooms set
``events["org.matrix.msc3401.call.member"]`` to 0).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sfu.access import Grant, TrackKind

from .homeserver import CALL_MEMBER, HomeserverClient, HomeserverError

log = logging.getLogger("sfu.roster")

FOCUS_TYPE = "im.concord.sfu"


def state_key(user_id: str, device_id: str) -> str:
    return f"_{user_id}_{device_id}"


class CallMembers:
    def __init__(self, homeserver: HomeserverClient, bot_user_id: str, focus_url: str) -> None:
        self.homeserver = homeserver
        self.bot_user_id = bot_user_id
        self.focus = {"type": FOCUS_TYPE, "url": focus_url}
        # (room, user, device) -> session: what we published and which session owns it,
        # so an old session leaving does not clear the state of the device's new session.
        self._active: dict[tuple[str, str, str], str] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def content(self, grant: Grant, tracks: list[TrackKind]) -> dict[str, Any]:
        return {
            "application": "m.call",
            "call_id": "",
            "scope": "m.room",
            "device_id": grant.device_id,
            "focus_active": dict(self.focus),
            "foci_preferred": [dict(self.focus)],
            "im.concord.user_id": grant.user_id,
            "im.concord.tracks": list(tracks),
        }

    def participants(self, room_id: str) -> set[str]:
        return {user for (room, user, _), _s in self._active.items() if room == room_id}

    async def joined(self, grant: Grant, session_id: str, tracks: list[TrackKind]) -> None:
        key = (grant.room_id, grant.user_id, grant.device_id)
        self._active[key] = session_id
        await self._publish(grant, self.content(grant, tracks))

    async def left(self, grant: Grant, session_id: str) -> None:
        key = (grant.room_id, grant.user_id, grant.device_id)
        if self._active.get(key) != session_id:
            return
        del self._active[key]
        await self._publish(grant, {})

    async def _publish(self, grant: Grant, content: dict[str, Any]) -> None:
        # One room at a time: a quick join-then-leave must not land in the other order.
        lock = self._locks.setdefault(grant.room_id, asyncio.Lock())
        async with lock:
            try:
                await self.homeserver.put_state(
                    grant.room_id,
                    CALL_MEMBER,
                    state_key(grant.user_id, grant.device_id),
                    content,
                )
            except HomeserverError as exc:
                # Presence is advisory: media keeps flowing; the log says why it is not shown.
                log.warning(
                    "call.member not published room=%s user=%s error=%s",
                    grant.room_id,
                    grant.user_id,
                    exc,
                )

    async def clear_stale(self) -> int:
        """At start: empties every non-empty call.member the bot published in the rooms it
        is joined to (the sessions of a previous run are gone), except those of sessions
        of this run. Returns how many were cleared. Raises ``HomeserverError`` when the
        homeserver cannot be asked (the caller retries)."""
        cleared = 0
        for room_id in await self.homeserver.joined_rooms():
            try:
                cleared += await self._clear_room(room_id)
            except HomeserverError as exc:
                if exc.status == 0:
                    raise  # unreachable: the caller retries everything
                # One room refusing (e.g. the bot lost the power to send) spoils no other.
                log.warning("stale call.member not cleared room=%s error=%s", room_id, exc)
        return cleared

    async def _clear_room(self, room_id: str) -> int:
        cleared = 0
        for event in await self.homeserver.room_state(room_id):
            if not _stale(event, self.bot_user_id):
                continue
            key = event["state_key"]
            if any(state_key(u, d) == key for (r, u, d) in self._active if r == room_id):
                continue
            lock = self._locks.setdefault(room_id, asyncio.Lock())
            async with lock:
                await self.homeserver.put_state(room_id, CALL_MEMBER, key, {})
            cleared += 1
        return cleared


def _stale(event: Any, bot_user_id: str) -> bool:
    return (
        isinstance(event, dict)
        and event.get("type") == CALL_MEMBER
        and event.get("sender") == bot_user_id
        and isinstance(event.get("state_key"), str)
        and bool(event.get("content"))
    )
