"""Presence rows of local users, on the presence stream (spec: client-server "Presence")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .database import Database, Txn, in_chunks
from .state_store import joined_in_rooms


@dataclass(frozen=True, slots=True)
class PresenceRow:
    user_id: str
    chosen: str  # what the user set: online, unavailable, busy, offline
    status_msg: str | None
    last_active_ts: int
    published: str  # the state others were last told
    currently_active: bool
    stream_id: int


_COLUMNS = "user_id, chosen, status_msg, last_active_ts, published, currently_active, stream_id"


def _row(r: Sequence[object]) -> PresenceRow:
    return PresenceRow(
        str(r[0]),
        str(r[1]),
        None if r[2] is None else str(r[2]),
        int(r[3]),  # type: ignore[call-overload]
        str(r[4]),
        bool(r[5]),
        int(r[6]),  # type: ignore[call-overload]
    )


def max_stream_id(txn: Txn) -> int:
    return int(txn.fetchval("SELECT MAX(stream_id) FROM presence") or 0)


def get_presence(txn: Txn, user_id: str) -> PresenceRow | None:
    row = txn.fetchone(f"SELECT {_COLUMNS} FROM presence WHERE user_id = ?", (user_id,))
    return None if row is None else _row(row)


def put_presence(
    txn: Txn,
    user_id: str,
    chosen: str,
    status_msg: str | None,
    last_active_ts: int,
    published: str,
    currently_active: bool,
) -> int:
    """Store the user's presence at the next stream position; returns it."""
    stream_id = max_stream_id(txn) + 1
    txn.execute(
        "INSERT INTO presence (user_id, chosen, status_msg, last_active_ts, published,"
        " currently_active, stream_id) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET chosen = excluded.chosen,"
        " status_msg = excluded.status_msg, last_active_ts = excluded.last_active_ts,"
        " published = excluded.published, currently_active = excluded.currently_active,"
        " stream_id = excluded.stream_id",
        (user_id, chosen, status_msg, last_active_ts, published, int(currently_active), stream_id),
    )
    return stream_id


def presence_of(txn: Txn, user_ids: Sequence[str], after: int, upto: int) -> list[PresenceRow]:
    """The rows of ``user_ids`` last changed in ``(after, upto]``."""
    found: list[PresenceRow] = []
    for chunk in in_chunks(user_ids):
        rows = txn.fetchall(
            f"SELECT {_COLUMNS} FROM presence WHERE user_id IN {txn.in_list(chunk)}"
            " AND stream_id > ? AND stream_id <= ?",
            (*chunk, after, upto),
        )
        found += [_row(r) for r in rows]
    return found


class PresenceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def max_stream_id(self) -> int:
        return await self.db.read(max_stream_id)

    async def get(self, user_id: str) -> PresenceRow | None:
        return await self.db.read(get_presence, user_id)

    async def put(
        self,
        user_id: str,
        chosen: str,
        status_msg: str | None,
        last_active_ts: int,
        published: str,
        currently_active: bool,
    ) -> int:
        return await self.db.write(
            put_presence, user_id, chosen, status_msg, last_active_ts, published, currently_active
        )

    async def of_users(self, user_ids: Sequence[str], after: int, upto: int) -> list[PresenceRow]:
        return await self.db.read(presence_of, user_ids, after, upto)

    async def users_sharing_rooms(self, room_ids: Sequence[str]) -> set[str]:
        return await self.db.read(joined_in_rooms, room_ids)
