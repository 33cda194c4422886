"""Push notifications' storage: rules (``push_rules_store``), what rules decided per
event (``push_actions_store``) and pushers (``pushers_store``), behind one facade."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .database import Database
from .push_actions_store import (
    NotificationRow,
    get_position,
    notifications,
    notifications_after,
    unread_counts,
)
from .pushers_store import (
    PusherRow,
    all_pushers,
    delete_pusher,
    set_pusher_position,
    user_pushers,
)


class PushStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def unread_counts(
        self,
        user_id: str,
        room_ids: Sequence[str],
        receipt_stream_orderings: Mapping[str, int] | None = None,
    ) -> dict[str, tuple[int, int]]:
        if not room_ids:
            return {}
        return await self.db.read(unread_counts, user_id, room_ids, receipt_stream_orderings)

    async def notifications(
        self, user_id: str, before: int | None, limit: int, only_highlight: bool
    ) -> list[NotificationRow]:
        return await self.db.read(notifications, user_id, before, limit, only_highlight)

    async def notifications_after(
        self, user_id: str, after: int, limit: int
    ) -> list[NotificationRow]:
        return await self.db.read(notifications_after, user_id, after, limit)

    async def position(self, name: str) -> int | None:
        return await self.db.read(get_position, name)

    async def all_pushers(self) -> list[PusherRow]:
        return await self.db.read(all_pushers)

    async def user_pushers(self, user_id: str) -> list[PusherRow]:
        return await self.db.read(user_pushers, user_id)

    async def delete_pusher(self, user_id: str, app_id: str, pushkey: str) -> bool:
        return await self.db.write(delete_pusher, user_id, app_id, pushkey)

    async def set_pusher_position(
        self, user_id: str, app_id: str, pushkey: str, stream_ordering: int
    ) -> None:
        await self.db.write(set_pusher_position, user_id, app_id, pushkey, stream_ordering)
