"""Receipts: the newest per (room, type, user, thread), on the receipts stream.

spec: client-server "Receipts". Positions are allocated inside the single writer's
transaction, so they commit in order and sync can read "everything after N".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .database import Database, Txn, in_chunks

UNTHREADED = ""  # the thread_id column of a receipt that applies to the whole room


@dataclass(frozen=True, slots=True)
class Receipt:
    room_id: str
    receipt_type: str
    user_id: str
    thread_id: str  # "" unthreaded, "main", or a thread root's event id
    event_id: str
    ts: int
    stream_id: int


_COLUMNS = "room_id, receipt_type, user_id, thread_id, event_id, ts, stream_id"


def max_stream_id(txn: Txn) -> int:
    return int(txn.fetchval("SELECT MAX(stream_id) FROM receipts") or 0)


def event_position(txn: Txn, room_id: str, event_id: str) -> int | None:
    """The stream ordering of ``event_id`` if it is an event of ``room_id``."""
    value = txn.fetchval(
        "SELECT stream_ordering FROM events WHERE event_id = ? AND room_id = ?",
        (event_id, room_id),
    )
    return None if value is None else int(value)


def put_receipt(
    txn: Txn,
    room_id: str,
    receipt_type: str,
    user_id: str,
    thread_id: str,
    event_id: str,
    event_stream: int,
    ts: int,
) -> int | None:
    """Store the receipt unless the user's current one is at a later event (a receipt
    never moves back); its stream position, or None when nothing changed."""
    current = txn.fetchval(
        "SELECT event_stream FROM receipts"
        " WHERE room_id = ? AND receipt_type = ? AND user_id = ? AND thread_id = ?",
        (room_id, receipt_type, user_id, thread_id),
    )
    if current is not None and int(current) >= event_stream:
        return None
    stream_id = max_stream_id(txn) + 1
    txn.execute(
        "INSERT INTO receipts (room_id, receipt_type, user_id, thread_id, event_id,"
        " event_stream, ts, stream_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (room_id, receipt_type, user_id, thread_id) DO UPDATE SET"
        " event_id = excluded.event_id, event_stream = excluded.event_stream,"
        " ts = excluded.ts, stream_id = excluded.stream_id",
        (room_id, receipt_type, user_id, thread_id, event_id, event_stream, ts, stream_id),
    )
    return stream_id


def receipts_in_rooms(txn: Txn, room_ids: Sequence[str], after: int, upto: int) -> list[Receipt]:
    """Receipts of ``room_ids`` set in ``(after, upto]`` of the stream."""
    found: list[Receipt] = []
    for chunk in in_chunks(room_ids):
        rows = txn.fetchall(
            f"SELECT {_COLUMNS} FROM receipts WHERE room_id IN {txn.in_list(chunk)}"
            " AND stream_id > ? AND stream_id <= ? ORDER BY stream_id",
            (*chunk, after, upto),
        )
        found += [Receipt(r[0], r[1], r[2], r[3], r[4], int(r[5]), int(r[6])) for r in rows]
    return found


def read_positions(txn: Txn, user_id: str, room_ids: Sequence[str]) -> dict[str, int]:
    """Per room, the stream ordering up to which the user has read (their newest
    unthreaded or main-thread ``m.read`` / ``m.read.private`` receipt)."""
    positions: dict[str, int] = {}
    for chunk in in_chunks(room_ids):
        rows = txn.fetchall(
            "SELECT room_id, MAX(event_stream) FROM receipts"
            f" WHERE user_id = ? AND room_id IN {txn.in_list(chunk)}"
            " AND receipt_type IN ('m.read', 'm.read.private')"
            " AND thread_id IN ('', 'main') GROUP BY room_id",
            (user_id, *chunk),
        )
        positions.update({str(r[0]): int(r[1]) for r in rows})
    return positions


class ReceiptsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def max_stream_id(self) -> int:
        return await self.db.read(max_stream_id)

    async def event_position(self, room_id: str, event_id: str) -> int | None:
        return await self.db.read(event_position, room_id, event_id)

    async def put(
        self,
        room_id: str,
        receipt_type: str,
        user_id: str,
        thread_id: str,
        event_id: str,
        event_stream: int,
        ts: int,
    ) -> int | None:
        return await self.db.write(
            put_receipt, room_id, receipt_type, user_id, thread_id, event_id, event_stream, ts
        )

    async def in_rooms(self, room_ids: Sequence[str], after: int, upto: int) -> list[Receipt]:
        return await self.db.read(receipts_in_rooms, room_ids, after, upto)

    async def read_positions(self, user_id: str, room_ids: Sequence[str]) -> dict[str, int]:
        return await self.db.read(read_positions, user_id, room_ids)

    async def read_upto(self, user_id: str, room_ids: Sequence[str]) -> dict[str, int]:
        return await self.db.read(read_upto, user_id, room_ids)


def read_upto(txn: Txn, user_id: str, room_ids: Sequence[str]) -> dict[str, int]:
    """Per room, how far the user has read for unread counts: their read receipt, or
    their own latest event if later (sending in a room reads what came before)."""
    positions = read_positions(txn, user_id, room_ids)
    for chunk in in_chunks(room_ids):
        rows = txn.fetchall(
            "SELECT room_id, MAX(stream_ordering) FROM events"
            f" WHERE sender = ? AND room_id IN {txn.in_list(chunk)} GROUP BY room_id",
            (user_id, *chunk),
        )
        for room_id, own in rows:
            positions[str(room_id)] = max(positions.get(str(room_id), 0), int(own))
    return positions
