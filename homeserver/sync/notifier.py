"""The sync notifier: what changed where, and who is waiting for it.

DESIGN.md "Read path". Subscribed to the ``EventBus``, it keeps in memory

- the room-events stream position and, per room, the position of its latest event
  (a ``StreamChangeCache``), so a sync asks "which of my rooms changed since N"
  without touching the rooms that did not;
- per user, the position of their latest membership change (an invite or a kick
  reaches a user who is not, or no longer, in the room) and of their latest
  account-data write;
- each local user's memberships (``MembershipCache``).

Long-polling syncs wait on an ``asyncio.Future`` registered under their user and
under each room they are joined to; an event wakes the waiters of its room and of
the user whose membership it changed; account data wakes its user. No polling.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from collections.abc import Set as AbstractSet

from homeserver.rooms.bus import PersistedEvent
from homeserver.storage.rooms_store import Membership

from .change_cache import StreamChangeCache
from .extensions import SyncExtension
from .memberships import MembershipCache
from .tokens import StreamToken


class Notifier:
    def __init__(self, memberships: MembershipCache) -> None:
        self.memberships = memberships
        self.room_position = 0
        self.account_data_position = 0
        self.rooms = StreamChangeCache(0)
        self.member_changes = StreamChangeCache(0)
        self.account_data = StreamChangeCache(0)
        self._by_user: dict[str, set[asyncio.Future[None]]] = {}
        self._by_room: dict[str, set[asyncio.Future[None]]] = {}
        self.wakeups = 0
        self.released = False
        self.extensions: list[SyncExtension] = []

    def start(self, room_position: int, account_data_position: int) -> None:
        """Set the streams' current positions (read from the database at start).

        Questions about older positions are answered "unknown" by the caches, and
        the sync handler then asks the database instead.
        """
        if room_position > self.room_position:
            self.room_position = room_position
            self.rooms = StreamChangeCache(room_position)
            self.member_changes = StreamChangeCache(room_position)
        if account_data_position > self.account_data_position:
            self.account_data_position = account_data_position
            self.account_data = StreamChangeCache(account_data_position)

    def current_token(self, since: StreamToken | None = None) -> StreamToken:
        base = since or StreamToken()
        positions = {
            "room_events": max(self.room_position, base.room_events),
            "account_data": max(self.account_data_position, base.account_data),
        }
        for extension in self.extensions:
            if extension.stream is not None:
                positions[extension.stream] = max(
                    extension.position(), getattr(base, extension.stream)
                )
        return base.advance(**positions)

    # ------------------------------------------------------------------ producers

    def on_event(self, item: PersistedEvent) -> None:
        """Bus subscriber: called after each event's commit."""
        event = item.event
        position = item.stream_ordering
        self.room_position = max(self.room_position, position)
        self.rooms.record(event.room_id, position)
        woken = set(self._by_room.get(event.room_id, ()))
        user = item.membership_change_for
        if user is not None:
            self.member_changes.record(user, position)
            membership = event.membership or "leave"
            self.memberships.update(
                user, Membership(event.room_id, membership, event.event_id, position)
            )
            woken |= self._by_user.get(user, set())
        for change in item.other_membership_changes:
            self.member_changes.record(change.user_id, position)
            self.memberships.update(
                change.user_id,
                Membership(event.room_id, change.membership, change.event_id, position),
            )
            woken |= self._by_user.get(change.user_id, set())
        self._wake(woken)

    def on_account_data(self, user_id: str, stream_id: int) -> None:
        """Called by the account-data handler after its write committed."""
        self.account_data_position = max(self.account_data_position, stream_id)
        self.account_data.record(user_id, stream_id)
        self._wake(set(self._by_user.get(user_id, ())))

    def on_stream(
        self,
        *,
        users: Iterable[str] = (),
        rooms: Iterable[str] = (),
    ) -> None:
        """An extension's stream moved (after its write committed): wake the long-polls
        of ``users`` and of everyone in ``rooms``."""
        woken: set[asyncio.Future[None]] = set()
        for user_id in users:
            woken |= self._by_user.get(user_id, set())
        for room_id in rooms:
            woken |= self._by_room.get(room_id, set())
        self._wake(woken)

    def _wake(self, waiters: set[asyncio.Future[None]]) -> None:
        for future in waiters:
            if not future.done():
                future.set_result(None)
                self.wakeups += 1

    def release_all(self) -> None:
        """At shutdown: every parked long-poll answers now, and none parks again, so
        the server drains at once instead of waiting out their timeouts."""
        self.released = True
        for waiters in list(self._by_user.values()):
            self._wake(set(waiters))

    # ------------------------------------------------------------------ consumers

    def has_news(
        self, user_id: str, rooms: AbstractSet[str], since: StreamToken, device_id: str = ""
    ) -> bool:
        """Whether anything the user may see changed after ``since`` (may err on yes)."""
        if self.member_changes.has_changed(user_id, since.room_events):
            return True
        if self.account_data.has_changed(user_id, since.account_data):
            return True
        for extension in self.extensions:
            if extension.has_news(user_id, device_id, rooms, since):
                return True
        changed = self.rooms.changed_among(rooms, since.room_events)
        return changed is None or bool(changed)

    async def wait(
        self,
        user_id: str,
        rooms: AbstractSet[str],
        since: StreamToken,
        timeout: float,
        device_id: str = "",
    ) -> bool:
        """Wait up to ``timeout`` seconds for news after ``since``; True if woken.

        The check and the registration happen without an ``await`` in between, so
        an event published meanwhile cannot be missed.
        """
        if self.has_news(user_id, rooms, since, device_id):
            return True
        if timeout <= 0 or self.released:
            return False
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._by_user.setdefault(user_id, set()).add(future)
        for room_id in rooms:
            self._by_room.setdefault(room_id, set()).add(future)
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._unregister(self._by_user, user_id, future)
            for room_id in rooms:
                self._unregister(self._by_room, room_id, future)

    @staticmethod
    def _unregister(
        index: dict[str, set[asyncio.Future[None]]], key: str, future: asyncio.Future[None]
    ) -> None:
        waiters = index.get(key)
        if waiters is not None:
            waiters.discard(future)
            if not waiters:
                del index[key]

    @property
    def waiting(self) -> int:
        """How many long-polls are parked (for tests and metrics)."""
        return len({f for waiters in self._by_user.values() for f in waiters})
