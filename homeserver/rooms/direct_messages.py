"""1:1 direct messages outside any guild: one room per pair of users.

``open(requester, other)`` is "message this user": it returns the pair's existing DM —
whoever of the two created it — or creates one. A DM is an ordinary Matrix room
(spec: client-server "Direct Messaging"): created with ``is_direct`` and the
``trusted_private_chat`` preset, the other user invited, and listed in the requester's
``m.direct`` account data (``{user_id: [room_id, ...]}``), so any Matrix client shows it
as a DM.

The existing DM is found, in this order, among the rooms listed under the other user in
the requester's ``m.direct``, those listed under the requester in the other user's
``m.direct`` (a local user), and the rooms both are in (joined or invited) with nobody
else and a member event that said ``is_direct`` (the invite, even after the join
replaced it): a DM made by a plain client that did not update ``m.direct``. A
requester who is only invited there joins it; the room is then added to their
``m.direct``. A DM the other user left is not reused: a new one is made. Requests for
one pair are serialized, so two at once do not create two rooms.

An invitee who accepts a DM invite from any client (a plain ``/join``) gets the room in
their ``m.direct`` under the inviter too (``on_event``, subscribed to the event bus), as
the spec asks of clients (client-server "Direct Messaging": the invitee's client adds it
on join); doing it here keeps clients that do not in step.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from typing import Any

from homeserver.errors import MatrixError
from homeserver.logs import fields
from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.ids import parse_user_id
from homeserver.storage import direct_reads, room_reads
from homeserver.storage.store import Store

from .bus import PersistedEvent
from .creation import CreateRoomRequest, RoomCreator
from .membership import MembershipHandler
from .room_state import RoomStateCache

log = logging.getLogger(__name__)

DIRECT_TYPE = "m.direct"
_LIVE = ("join", "invite")


def _listed(content: Any, user_id: str) -> list[str]:
    """The room ids ``m.direct`` content lists under ``user_id`` (malformed: none)."""
    if not isinstance(content, dict):
        return []
    rooms = content.get(user_id)
    if not isinstance(rooms, list):
        return []
    return [r for r in rooms if isinstance(r, str)]


class DirectMessages:
    def __init__(
        self,
        store: Store,
        rooms: RoomStateCache,
        creator: RoomCreator,
        membership: MembershipHandler,
        on_account_data: Callable[[str, int], None],
        server_name: str,
    ) -> None:
        self.store = store
        self.rooms = rooms
        self.creator = creator
        self.membership = membership
        self.on_account_data = on_account_data
        self.server_name = server_name
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False

    def _is_local(self, user_id: str) -> bool:
        return user_id.partition(":")[2] == self.server_name

    async def _check_other(self, requester: str, other: str) -> None:
        try:
            parse_user_id(other)
        except InvalidIdentifier as exc:
            raise MatrixError(400, "M_INVALID_PARAM", f"invalid user id: {exc}") from exc
        if other == requester:
            raise MatrixError(400, "M_INVALID_PARAM", "A direct message needs another user")
        if self._is_local(other) and not await self.store.accounts.user_exists(other):
            raise MatrixError(404, "M_NOT_FOUND", f"Unknown user {other}")

    async def open(self, requester: str, other: str) -> str:
        """The pair's DM room id, created if the pair has none."""
        await self._check_other(requester, other)
        key = (min(requester, other), max(requester, other))
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            room_id = await self._existing(requester, other)
            if room_id is None:
                req = CreateRoomRequest(
                    preset="trusted_private_chat", is_direct=True, invite=[other]
                )
                room_id = await self.creator.create_room(requester, req)
            elif await self.membership.membership_of(room_id, requester) == "invite":
                await self.membership.join(requester, room_id)
            await self._remember(requester, other, room_id)
            return room_id

    async def _existing(self, requester: str, other: str) -> str | None:
        listed = _listed(await self.store.account_data.get(requester, None, DIRECT_TYPE), other)
        if self._is_local(other):
            theirs = await self.store.account_data.get(other, None, DIRECT_TYPE)
            listed += _listed(theirs, requester)
        for room_id in dict.fromkeys(listed):
            if await self._both_in(room_id, requester, other):
                return room_id
        shared = await self.store.db.read(direct_reads.pair_rooms, requester, other)
        if not shared:
            return None
        keys = [("m.room.member", requester), ("m.room.member", other)]
        history = await self.store.db.read(room_reads.state_histories, shared, keys)
        for room_id in shared:
            if any(
                stored.event.content.get("is_direct") is True
                for key in keys
                for stored in history.get((room_id, key), [])
            ):
                return room_id
        return None

    async def _both_in(self, room_id: str, requester: str, other: str) -> bool:
        keys = [("m.room.member", requester), ("m.room.member", other)]
        found = await self.rooms.state_events(room_id, keys)
        return all((e := found.get(k)) is not None and e.membership in _LIVE for k in keys)

    async def _remember(self, user_id: str, other: str, room_id: str) -> None:
        """Add the room to ``user_id``'s ``m.direct`` under ``other`` (first, as the
        current DM) unless it is there already."""

        def change(current: dict[str, Any] | None) -> dict[str, Any]:
            content = dict(current) if isinstance(current, dict) else {}
            rooms = _listed(content, other)
            content[other] = [room_id, *(r for r in rooms if r != room_id)]
            return content

        current = await self.store.account_data.get(user_id, None, DIRECT_TYPE)
        if _listed(current, other)[:1] == [room_id]:
            return
        stream_id = await self.store.account_data.update(user_id, None, DIRECT_TYPE, change)
        self.on_account_data(user_id, stream_id)

    # ------------------------------------------------------------------ invitees' joins

    def on_event(self, item: PersistedEvent) -> None:
        """Bus subscriber: a local user's join may accept a DM invite."""
        event = item.event
        if (
            self._stopping
            or not item.live
            or event.type != "m.room.member"
            or event.membership != "join"
            or event.state_key is None
            or not self._is_local(event.state_key)
        ):
            return
        task = asyncio.get_running_loop().create_task(
            self._accepted(event.state_key, event.room_id, event.event_id)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accepted(self, user_id: str, room_id: str, join_id: str) -> None:
        """If the membership before ``join_id`` was an ``is_direct`` invite, list the
        room in the user's ``m.direct`` under the inviter."""
        try:
            key = ("m.room.member", user_id)
            history = await self.store.db.read(room_reads.state_histories, [room_id], [key])
            events = [stored.event for stored in history.get((room_id, key), [])]
            ids = [e.event_id for e in events]
            if join_id not in ids or ids.index(join_id) == 0:
                return
            before = events[ids.index(join_id) - 1]
            if before.membership != "invite" or before.content.get("is_direct") is not True:
                return
            if before.sender != user_id:
                await self._remember(user_id, before.sender, room_id)
        except Exception:
            log.exception("m.direct update after a DM join failed", extra=fields(room_id=room_id))

    async def stop(self) -> None:
        self._stopping = True
        tasks = list(self._tasks)
        if tasks:
            await asyncio.wait(tasks, timeout=5.0)
