"""The device-lists stream and the key counts, as one sync extension.

spec: client-server "Tracking the device list for a user", "Extensions to /sync"
(``device_lists``, ``device_one_time_keys_count``, ``device_unused_fallback_key_types``)
and ``GET /keys/changes``.

A user is in another's ``device_lists.changed`` when, between two tokens,
- their devices or cross-signing keys changed (the device-lists stream) and they share a
  room now (a signature the viewer made of their master key reaches only the viewer), or
- they started sharing a room: one joined a room the other is in (the spec allows this
  even when they already shared another room).
They are in ``left`` when one of them left a room they shared and they now share none.

Kept cheap when nothing changed: in memory, for each viewer, the position of the last
change they may care about (recorded when a change is published, for everyone sharing
a room with the changed user at that moment), and for each room the position of its last
membership event (from the event bus). The database is read only when either says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from homeserver.logs import fields
from homeserver.lru import LruCache
from homeserver.rooms.bus import PersistedEvent
from homeserver.storage.e2e_store import KeyCounts
from homeserver.storage.store import Store
from homeserver.sync.change_cache import StreamChangeCache
from homeserver.sync.memberships import UserRooms
from homeserver.sync.tokens import StreamToken

if TYPE_CHECKING:
    from homeserver.sync.extensions import SyncContext
    from homeserver.sync.handler import SyncRequest, SyncResult
    from homeserver.sync.notifier import Notifier

log = logging.getLogger(__name__)
R = TypeVar("R")

# Clients (and Synapse) expect the count of the usual algorithm even when it is zero.
SIGNED_CURVE25519 = "signed_curve25519"


@dataclass(frozen=True, slots=True)
class Change:
    """Device-list change at ``position`` of ``users``; ``only_for`` one viewer."""

    position: int
    users: tuple[str, ...]
    only_for: str | None = None


class KeyCountsCache:
    """Per device, its one-time key counts and unused fallback algorithms (every sync
    reports them); dropped on every change, reloaded on the next sync."""

    def __init__(self, store: Store, max_devices: int = 50_000) -> None:
        self.store = store
        self._cache: LruCache[tuple[str, str], KeyCounts] = LruCache(max_devices)
        # Bumped on every invalidation: a load that raced with a change is not kept.
        self._generation = 0

    async def get(self, user_id: str, device_id: str) -> KeyCounts:
        key = (user_id, device_id)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        generation = self._generation
        counts = await self.store.e2e_keys.counts(user_id, device_id)
        if generation == self._generation:
            self._cache.set(key, counts)
        return counts

    def new_device(self, user_id: str, device_id: str) -> None:
        """A device just created has no keys: its first sync needs no read."""
        self.invalidate([(user_id, device_id)])
        self._cache.set((user_id, device_id), KeyCounts({}, []))

    def invalidate(self, devices: Iterable[tuple[str, str]]) -> None:
        self._generation += 1
        for key in devices:
            self._cache.pop(key)


def counts_json(counts: KeyCounts) -> dict[str, int]:
    return {SIGNED_CURVE25519: 0, **counts.one_time_keys}


class DeviceListStream:
    """The ``device_lists`` stream: a ``SyncExtension``."""

    stream: str | None = "device_lists"

    def __init__(self, store: Store, notifier: Notifier, counts: KeyCountsCache) -> None:
        self.store = store
        self.notifier = notifier
        self.counts = counts
        self._position = 0
        self._lock = asyncio.Lock()
        # viewer -> position of the last change published to them
        self._viewers = StreamChangeCache(0)
        # room -> position (room-events stream) of its last membership event
        self._member_rooms = StreamChangeCache(0)
        # Told, after the changes are published, whose device lists changed for
        # everyone (not a signature only its maker sees): federation tells other servers.
        self.change_listeners: list[Callable[[tuple[str, ...]], Awaitable[None]]] = []

    async def start(self, room_position: int) -> None:
        """At start-up, after the pipeline learnt the room-events position."""
        self._position = await self.store.e2e_keys.position()
        self._viewers = StreamChangeCache(self._position)
        self._member_rooms = StreamChangeCache(room_position)

    def on_event(self, item: PersistedEvent) -> None:
        """Bus subscriber: remember where rooms' memberships changed."""
        if item.event.type == "m.room.member":
            self._member_rooms.record(item.event.room_id, item.stream_ordering)

    # -- producers ------------------------------------------------------------------

    async def publish(
        self, write: Callable[[], Awaitable[R]], changes: Callable[[R], Iterable[Change]]
    ) -> R:
        """Run ``write`` (a store write recording device-list changes) and publish its
        ``changes`` to the viewers concerned, in commit order: a token never covers a
        change whose viewers are not yet recorded."""
        public: list[str] = []
        async with self._lock:
            result = await write()
            for change in changes(result):
                if change.only_for is None:
                    public += change.users
                viewers: set[str] = set()
                try:
                    if change.only_for is not None:
                        viewers.add(change.only_for)
                    else:
                        for user_id in change.users:
                            viewers |= await self.store.e2e_keys.viewers_of(user_id)
                except Exception:
                    # The change is committed but we cannot say whom it concerns: forget
                    # what memory knows, so every sync asks the database instead.
                    log.exception("device-list viewers unknown", extra=fields(users=change.users))
                    self._viewers = StreamChangeCache(change.position)
                for viewer in viewers:
                    self._viewers.record(viewer, change.position)
                self._position = max(self._position, change.position)
                self.notifier.on_stream(users=viewers)
        if public and self.change_listeners:
            users = tuple(dict.fromkeys(public))
            for listener in self.change_listeners:
                try:
                    await listener(users)
                except Exception:
                    log.exception("device-list listener failed", extra=fields(users=users))
        return result

    async def record(self, user_ids: Iterable[str]) -> None:
        """A change not written by another store call (e.g. a new device)."""
        users = tuple(user_ids)
        await self.publish(
            lambda: self.store.e2e_keys.record_change(users), lambda pos: [Change(pos, users)]
        )

    # -- readers --------------------------------------------------------------------

    async def changes(
        self, user_id: str, since: StreamToken, upto: StreamToken
    ) -> tuple[list[str], list[str]]:
        """``(changed, left)`` for ``user_id`` between two tokens."""
        user_rooms = await self.notifier.memberships.get(user_id)
        joined = user_rooms.joined
        changed: set[str] = set()
        left: set[str] = set()
        after, until = since.device_lists, min(upto.device_lists, self._position)
        if after < until and self._viewers.has_changed(user_id, after):
            public: set[str] = set()
            for other, private in await self.store.e2e_keys.changes(after, until, user_id):
                if other == user_id:
                    changed.add(user_id)  # the user's own other devices track them too
                elif private:
                    changed.add(other)  # a signature the viewer made of their key
                else:
                    public.add(other)
            if public:
                changed |= await self.store.e2e_keys.users_sharing(sorted(joined), sorted(public))
        after, until = since.room_events, min(upto.room_events, self.notifier.room_position)
        if after < until:
            await self._membership_changes(user_id, user_rooms, after, until, changed, left)
        changed -= left
        return sorted(changed), sorted(left)

    async def _membership_changes(
        self,
        user_id: str,
        user_rooms: UserRooms,
        after: int,
        until: int,
        changed: set[str],
        left: set[str],
    ) -> None:
        joined = user_rooms.joined
        mine = {r for r, m in user_rooms.by_room.items() if after < m.stream_ordering}
        rooms: AbstractSet[str] = joined | mine
        candidates = self._member_rooms.changed_among(rooms, after)
        if candidates is None:
            candidates = set(rooms)
        if not candidates:
            return
        events = await self.store.e2e_keys.membership_changes(sorted(candidates), after, until)
        newly_joined: set[str] = set()
        rooms_left: set[str] = set()
        gone: set[str] = set()
        for room_id, member, membership in events:
            if member == user_id:
                if membership == "join" and room_id in joined:
                    newly_joined.add(room_id)
                elif room_id not in joined:
                    rooms_left.add(room_id)
            elif room_id in joined:
                if membership == "join":
                    changed.add(member)
                else:
                    gone.add(member)
        if newly_joined:
            changed |= await self.store.e2e_keys.joined_members(sorted(newly_joined))
        if rooms_left:
            gone |= await self.store.e2e_keys.joined_members(sorted(rooms_left))
        changed.discard(user_id)
        gone.discard(user_id)
        if gone:
            still = await self.store.e2e_keys.users_sharing(sorted(joined), sorted(gone))
            left |= gone - still

    # -- SyncExtension --------------------------------------------------------------

    def position(self) -> int:
        return self._position

    def has_news(
        self, user_id: str, device_id: str, joined: AbstractSet[str], since: StreamToken
    ) -> bool:
        # Membership changes come with room events, which wake the sync on their own.
        return since.device_lists < self._position and self._viewers.has_changed(
            user_id, since.device_lists
        )

    async def fill(self, req: SyncRequest, ctx: SyncContext, result: SyncResult) -> None:
        counts = await self.counts.get(ctx.user_id, ctx.device_id)
        result.one_time_keys_count = counts_json(counts)
        result.unused_fallback_key_types = list(counts.unused_fallback)
        if ctx.since is None:
            return  # spec: device_lists only in an incremental sync
        changed, left = await self.changes(ctx.user_id, ctx.since, ctx.token)
        result.device_lists_changed = changed
        result.device_lists_left = left
