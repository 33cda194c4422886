"""Each local user's room memberships, kept in memory for sync.

Loaded from ``local_memberships`` on a user's first sync, then updated from the
event bus, so an incremental sync needs no query to know the user's rooms.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from homeserver.lru import LruCache
from homeserver.storage.rooms_store import Membership

Loader = Callable[[str], Awaitable[list[Membership]]]


@dataclass(frozen=True, slots=True)
class UserRooms:
    """An immutable snapshot: a sync keeps using it while newer ones replace it."""

    by_room: Mapping[str, Membership]
    joined: frozenset[str]
    # The newest membership's stream position (0: none).
    newest: int = 0

    @classmethod
    def of(cls, by_room: Mapping[str, Membership]) -> UserRooms:
        joined = frozenset(r for r, m in by_room.items() if m.membership == "join")
        newest = max((m.stream_ordering for m in by_room.values()), default=0)
        return cls(by_room, joined, newest)


class MembershipCache:
    def __init__(self, load: Loader, max_users: int = 20_000) -> None:
        self._load = load
        self._users: LruCache[str, UserRooms] = LruCache(max_users)
        # Bumped on every change of a user's memberships: a load that raced with a
        # change must not be cached (it may predate the change).
        self._versions: dict[str, int] = {}

    async def get(self, user_id: str) -> UserRooms:
        cached = self._users.get(user_id)
        if cached is not None:
            return cached
        while True:
            version = self._versions.get(user_id, 0)
            rows = await self._load(user_id)
            loaded = UserRooms.of({row.room_id: row for row in rows})
            if self._versions.get(user_id, 0) == version:
                # Consistent with every published event: callers rely on that to
                # pair this snapshot with the notifier's current position.
                self._users.set(user_id, loaded)
                return loaded
            cached = self._users.get(user_id)
            if cached is not None:
                return cached

    def update(self, user_id: str, membership: Membership) -> None:
        self._versions[user_id] = self._versions.get(user_id, 0) + 1
        cached = self._users.get(user_id)
        if cached is not None:
            self._users.set(
                user_id, UserRooms.of({**cached.by_room, membership.room_id: membership})
            )

    def invalidate(self, user_id: str) -> None:
        """Drop a user's entry (e.g. after ``/forget`` wrote the table directly)."""
        self._versions[user_id] = self._versions.get(user_id, 0) + 1
        self._users.pop(user_id)
