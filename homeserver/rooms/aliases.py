"""Room aliases and the public room directory (local part; federation queries later)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from homeserver.clock import Clock
from homeserver.storage.database import Txn
from homeserver.storage.store import Store


def _resolve(txn: Txn, alias: str) -> str | None:
    value = txn.fetchval("SELECT room_id FROM room_aliases WHERE alias = ?", (alias,))
    return None if value is None else str(value)


def _create(txn: Txn, alias: str, room_id: str, creator: str, ts: int) -> bool:
    if _resolve(txn, alias) is not None:
        return False
    txn.execute(
        "INSERT INTO room_aliases (alias, room_id, creator, created_ts) VALUES (?, ?, ?, ?)",
        (alias, room_id, creator, ts),
    )
    return True


def _delete(txn: Txn, alias: str) -> bool:
    txn.execute("DELETE FROM room_aliases WHERE alias = ?", (alias,))
    return txn.rowcount > 0


def _creator(txn: Txn, alias: str) -> str | None:
    value = txn.fetchval("SELECT creator FROM room_aliases WHERE alias = ?", (alias,))
    return None if value is None else str(value)


def _room_aliases(txn: Txn, room_id: str) -> list[str]:
    rows = txn.fetchall(
        "SELECT alias FROM room_aliases WHERE room_id = ? ORDER BY alias", (room_id,)
    )
    return [row[0] for row in rows]


def _set_visibility(txn: Txn, room_id: str, public: bool) -> None:
    txn.execute("UPDATE rooms SET is_public = ? WHERE room_id = ?", (1 if public else 0, room_id))


def _visibility(txn: Txn, room_id: str) -> bool | None:
    value = txn.fetchval("SELECT is_public FROM rooms WHERE room_id = ?", (room_id,))
    return None if value is None else bool(value)


def _public_rooms(txn: Txn) -> list[str]:
    rows = txn.fetchall("SELECT room_id FROM rooms WHERE is_public = 1 ORDER BY room_id")
    return [row[0] for row in rows]


class AliasDirectory:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        # Set by the application service wiring. ``query_unknown(alias)``: asks the
        # services whose aliases namespace holds an unknown alias (spec:
        # application-service-api "Query room alias"); True when one may have made it.
        self.query_unknown: Callable[[str], Awaitable[bool]] | None = None
        # ``guard(user_id, alias)`` raises 400 M_EXCLUSIVE when the alias is in another
        # service's exclusive namespace.
        self.guard: Callable[[str, str], None] | None = None

    async def resolve_local(self, alias: str) -> str | None:
        return await self.store.db.read(_resolve, alias)

    async def resolve(self, alias: str) -> str | None:
        """``resolve_local``, asking application services about an unknown alias."""
        room_id = await self.resolve_local(alias)
        if room_id is None and self.query_unknown is not None and await self.query_unknown(alias):
            room_id = await self.resolve_local(alias)
        return room_id

    def check_exclusive(self, user_id: str, alias: str) -> None:
        if self.guard is not None:
            self.guard(user_id, alias)

    async def create(self, alias: str, room_id: str, creator: str) -> bool:
        """False if the alias is taken."""
        return await self.store.db.write(_create, alias, room_id, creator, self.clock.time_ms())

    async def delete(self, alias: str) -> bool:
        return await self.store.db.write(_delete, alias)

    async def creator(self, alias: str) -> str | None:
        return await self.store.db.read(_creator, alias)

    async def room_aliases(self, room_id: str) -> list[str]:
        return await self.store.db.read(_room_aliases, room_id)

    async def set_visibility(self, room_id: str, *, public: bool) -> None:
        await self.store.db.write(_set_visibility, room_id, public)

    async def visibility(self, room_id: str) -> bool | None:
        return await self.store.db.read(_visibility, room_id)

    async def public_rooms(self) -> list[str]:
        return await self.store.db.read(_public_rooms)
