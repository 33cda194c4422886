"""What the federation sender keeps across restarts (spec: server-server "Transactions").

Per destination: the backoff in force and how far it has acknowledged our events; per
destination and room, the newest local event meant for it (what catch-up sends after
an outage); and an outbox of EDUs that must not be lost (to-device messages).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .database import Database, Txn, in_chunks
from .e2e_store import dumps, loads

JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class DestinationRow:
    destination: str
    retry_last_ts: int
    retry_interval_ms: int  # 0: not backing off
    failure_ts: int | None  # when the current outage began
    last_successful_stream: int


@dataclass(frozen=True, slots=True)
class CatchUpEvent:
    room_id: str
    event_id: str
    stream_ordering: int


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    edu_type: str
    content: JsonDict


def load_destinations(txn: Txn) -> list[DestinationRow]:
    rows = txn.fetchall(
        "SELECT destination, retry_last_ts, retry_interval_ms, failure_ts,"
        " last_successful_stream FROM federation_destinations"
    )
    return [
        DestinationRow(
            str(r[0]), int(r[1]), int(r[2]), None if r[3] is None else int(r[3]), int(r[4])
        )
        for r in rows
    ]


def record_destination_rooms(txn: Txn, rows: Iterable[tuple[str, str, str, int]]) -> None:
    """``(destination, room_id, event_id, stream_ordering)``: the newest event meant for
    each destination in each room (an older one never replaces a newer)."""
    txn.executemany(
        "INSERT INTO federation_destination_rooms (destination, room_id, event_id,"
        " stream_ordering) VALUES (?, ?, ?, ?) ON CONFLICT (destination, room_id) DO UPDATE"
        " SET event_id = excluded.event_id, stream_ordering = excluded.stream_ordering"
        " WHERE federation_destination_rooms.stream_ordering < excluded.stream_ordering",
        list(rows),
    )


def catch_up_events(txn: Txn, destination: str, after: int, limit: int) -> list[CatchUpEvent]:
    """The rooms with an event for ``destination`` past ``after``: each room's newest
    such event, oldest first."""
    rows = txn.fetchall(
        "SELECT room_id, event_id, stream_ordering FROM federation_destination_rooms"
        " WHERE destination = ? AND stream_ordering > ? ORDER BY stream_ordering LIMIT ?",
        (destination, after, limit),
    )
    return [CatchUpEvent(str(r[0]), str(r[1]), int(r[2])) for r in rows]


def destinations_to_wake(txn: Txn) -> tuple[set[str], set[str]]:
    """``(needing catch-up, with an outbox)``: the destinations with work left over."""
    rows = txn.fetchall(
        "SELECT DISTINCT r.destination FROM federation_destination_rooms r"
        " LEFT JOIN federation_destinations d ON d.destination = r.destination"
        " WHERE r.stream_ordering > COALESCE(d.last_successful_stream, 0)"
    )
    catch_up = {str(r[0]) for r in rows}
    rows = txn.fetchall("SELECT DISTINCT destination FROM federation_outbox")
    return catch_up, {str(r[0]) for r in rows}


def _ensure_row(txn: Txn, destination: str) -> None:
    txn.execute(
        "INSERT INTO federation_destinations (destination) VALUES (?)"
        " ON CONFLICT (destination) DO NOTHING",
        (destination,),
    )


def transaction_sent(
    txn: Txn, destination: str, last_stream: int | None, outbox_ids: Sequence[int]
) -> None:
    """A transaction succeeded: no backoff any more, the acknowledged position moves
    forward to ``last_stream`` (when it carried room events), the outbox items it
    carried are done."""
    _ensure_row(txn, destination)
    txn.execute(
        "UPDATE federation_destinations SET retry_last_ts = 0, retry_interval_ms = 0,"
        " failure_ts = NULL, last_successful_stream = CASE"
        " WHEN last_successful_stream < ? THEN ? ELSE last_successful_stream END"
        " WHERE destination = ?",
        (last_stream or 0, last_stream or 0, destination),
    )
    delete_outbox(txn, outbox_ids)


def set_backoff(
    txn: Txn, destination: str, retry_last_ts: int, retry_interval_ms: int, failure_ts: int | None
) -> None:
    """Store the backoff in force (interval 0 and no failure: none)."""
    _ensure_row(txn, destination)
    txn.execute(
        "UPDATE federation_destinations SET retry_last_ts = ?, retry_interval_ms = ?,"
        " failure_ts = ? WHERE destination = ?",
        (retry_last_ts, retry_interval_ms, failure_ts, destination),
    )


def enqueue_outbox(
    txn: Txn, items: Sequence[tuple[str, str, str, JsonDict]], now_ms: int
) -> set[str]:
    """Queue ``(destination, edu_type, message_id, content)`` items; one already queued
    with its message id is left alone. Returns the destinations that got one."""
    next_id = int(txn.fetchval("SELECT MAX(id) FROM federation_outbox") or 0) + 1
    queued: set[str] = set()
    for destination, edu_type, message_id, content in items:
        txn.execute(
            "INSERT INTO federation_outbox (id, destination, edu_type, message_id, content,"
            " created_ts) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (destination, message_id) DO NOTHING",
            (next_id, destination, edu_type, message_id, dumps(content), now_ms),
        )
        if txn.rowcount:
            next_id += 1
            queued.add(destination)
    return queued


def outbox(txn: Txn, destination: str, limit: int) -> list[OutboxItem]:
    rows = txn.fetchall(
        "SELECT id, edu_type, content FROM federation_outbox WHERE destination = ?"
        " ORDER BY id LIMIT ?",
        (destination, limit),
    )
    return [OutboxItem(int(r[0]), str(r[1]), loads(r[2])) for r in rows]


def delete_outbox(txn: Txn, ids: Sequence[int]) -> None:
    for chunk in in_chunks(ids):
        txn.execute(f"DELETE FROM federation_outbox WHERE id IN {txn.in_list(chunk)}", chunk)


def joined_rooms_of(txn: Txn, user_id: str) -> list[str]:
    """The rooms this server knows ``user_id`` (local or remote) to be joined to."""
    rows = txn.fetchall(
        "SELECT room_id FROM current_state WHERE state_key = ? AND type = 'm.room.member'"
        " AND membership = 'join'",
        (user_id,),
    )
    return sorted(str(r[0]) for r in rows)


class FederationSenderStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def load_destinations(self) -> list[DestinationRow]:
        return await self.db.read(load_destinations)

    async def record_destination_rooms(self, rows: Sequence[tuple[str, str, str, int]]) -> None:
        await self.db.write(record_destination_rooms, rows)

    async def catch_up_events(self, destination: str, after: int, limit: int) -> list[CatchUpEvent]:
        return await self.db.read(catch_up_events, destination, after, limit)

    async def destinations_to_wake(self) -> tuple[set[str], set[str]]:
        return await self.db.read(destinations_to_wake)

    async def transaction_sent(
        self, destination: str, last_stream: int | None, outbox_ids: Sequence[int]
    ) -> None:
        await self.db.write(transaction_sent, destination, last_stream, outbox_ids)

    async def set_backoff(
        self, destination: str, retry_last_ts: int, retry_interval_ms: int, failure_ts: int | None
    ) -> None:
        await self.db.write(set_backoff, destination, retry_last_ts, retry_interval_ms, failure_ts)

    async def enqueue_outbox(
        self, items: Sequence[tuple[str, str, str, JsonDict]], now_ms: int
    ) -> set[str]:
        return await self.db.write(enqueue_outbox, items, now_ms)

    async def outbox(self, destination: str, limit: int) -> list[OutboxItem]:
        return await self.db.read(outbox, destination, limit)

    async def delete_outbox(self, ids: Sequence[int]) -> None:
        await self.db.write(delete_outbox, ids)

    async def joined_rooms_of(self, user_id: str) -> list[str]:
        return await self.db.read(joined_rooms_of, user_id)
