"""Rooms, local memberships, aliases, the public directory and transaction ids."""

from __future__ import annotations

from dataclasses import dataclass

from .database import Database, Txn


@dataclass(frozen=True, slots=True)
class Membership:
    room_id: str
    membership: str
    event_id: str
    stream_ordering: int


def insert_room(txn: Txn, room_id: str, version: str, creator: str | None, created_ts: int) -> None:
    txn.execute(
        "INSERT INTO rooms (room_id, room_version, creator, created_ts) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (room_id) DO NOTHING",
        (room_id, version, creator, created_ts),
    )


def get_room_version(txn: Txn, room_id: str) -> str | None:
    value = txn.fetchval("SELECT room_version FROM rooms WHERE room_id = ?", (room_id,))
    return None if value is None else str(value)


def upsert_local_membership(
    txn: Txn, user_id: str, room_id: str, membership: str, event_id: str, stream: int
) -> None:
    txn.execute(
        "INSERT INTO local_memberships (user_id, room_id, membership, event_id, stream_ordering,"
        " forgotten) VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (user_id, room_id) DO UPDATE SET"
        " membership = excluded.membership, event_id = excluded.event_id,"
        " stream_ordering = excluded.stream_ordering, forgotten = 0",
        (user_id, room_id, membership, event_id, stream),
    )


def user_memberships(txn: Txn, user_id: str) -> list[Membership]:
    rows = txn.fetchall(
        "SELECT room_id, membership, event_id, stream_ordering FROM local_memberships"
        " WHERE user_id = ? AND forgotten = 0",
        (user_id,),
    )
    return [Membership(*row) for row in rows]


def get_txn_event(txn: Txn, user_id: str, device_id: str, txn_id: str) -> str | None:
    value = txn.fetchval(
        "SELECT event_id FROM txn_ids WHERE user_id = ? AND device_id = ? AND txn_id = ?",
        (user_id, device_id, txn_id),
    )
    return None if value is None else str(value)


def insert_txn_id(
    txn: Txn, user_id: str, device_id: str, txn_id: str, event_id: str, ts: int
) -> None:
    txn.execute(
        "INSERT INTO txn_ids (user_id, device_id, txn_id, event_id, created_ts)"
        " VALUES (?, ?, ?, ?, ?)",
        (user_id, device_id, txn_id, event_id, ts),
    )


class RoomsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get_room_version(self, room_id: str) -> str | None:
        return await self.db.read(get_room_version, room_id)

    async def user_memberships(self, user_id: str) -> list[Membership]:
        return await self.db.read(user_memberships, user_id)

    async def get_txn_event(self, user_id: str, device_id: str, txn_id: str) -> str | None:
        return await self.db.read(get_txn_event, user_id, device_id, txn_id)
