"""What the application-service pusher keeps across restarts (spec: application-service
API "Pushing events").

Per registration: how far the room-events and to-device streams have been put into
transactions, the next transaction id, the backoff in force; and the transactions built
but not acknowledged yet, each with its body exactly as sent (a retry resends the same
id and content). A transaction is stored in the same database transaction that moves
the positions past its events, so an event is in exactly one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .database import Database, Txn
from .e2e_store import dumps, loads
from .events_store import _EVENT_COLUMNS, StoredEvent, _row_to_stored

JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class AppServiceState:
    as_id: str
    stream_position: int
    to_device_position: int
    retry_last_ts: int
    retry_interval_ms: int  # 0: not backing off


@dataclass(frozen=True, slots=True)
class PendingTxn:
    txn_id: int
    body: JsonDict


@dataclass(frozen=True, slots=True)
class ToDeviceRow:
    stream_id: int
    user_id: str
    device_id: str
    message: JsonDict  # {"sender", "type", "content"}


def load_state(txn: Txn, as_id: str, stream_start: int, to_device_start: int) -> AppServiceState:
    """The registration's state; a new one starts at the given positions (the present:
    an application service is not sent the history from before it was registered)."""
    txn.execute(
        "INSERT INTO appservice_states (as_id, stream_position, to_device_position)"
        " VALUES (?, ?, ?) ON CONFLICT (as_id) DO NOTHING",
        (as_id, stream_start, to_device_start),
    )
    row = txn.fetchone(
        "SELECT stream_position, to_device_position, retry_last_ts, retry_interval_ms"
        " FROM appservice_states WHERE as_id = ?",
        (as_id,),
    )
    assert row is not None
    return AppServiceState(as_id, int(row[0]), int(row[1]), int(row[2]), int(row[3]))


def pending_txns(txn: Txn, as_id: str) -> list[PendingTxn]:
    rows = txn.fetchall(
        "SELECT txn_id, body FROM appservice_txns WHERE as_id = ? ORDER BY txn_id", (as_id,)
    )
    return [PendingTxn(int(r[0]), loads(r[1])) for r in rows]


def create_txn(
    txn: Txn, as_id: str, body: JsonDict | None, stream_position: int, to_device_position: int
) -> PendingTxn | None:
    """Move the registration's positions forward and, with a ``body``, store it as a new
    pending transaction under the next id (None without one: nothing to send)."""
    txn.execute(
        "UPDATE appservice_states SET stream_position = ?, to_device_position = ? WHERE as_id = ?",
        (stream_position, to_device_position, as_id),
    )
    if body is None:
        return None
    txn_id = int(
        txn.fetchval("SELECT next_txn_id FROM appservice_states WHERE as_id = ?", (as_id,))
    )
    txn.execute("UPDATE appservice_states SET next_txn_id = ? WHERE as_id = ?", (txn_id + 1, as_id))
    txn.execute(
        "INSERT INTO appservice_txns (as_id, txn_id, body) VALUES (?, ?, ?)",
        (as_id, txn_id, dumps(body)),
    )
    return PendingTxn(txn_id, body)


def txn_sent(txn: Txn, as_id: str, txn_id: int) -> None:
    """The application service acknowledged ``txn_id``: it is done, the backoff is over."""
    txn.execute("DELETE FROM appservice_txns WHERE as_id = ? AND txn_id = ?", (as_id, txn_id))
    set_backoff(txn, as_id, 0, 0)


def set_backoff(txn: Txn, as_id: str, retry_last_ts: int, retry_interval_ms: int) -> None:
    txn.execute(
        "UPDATE appservice_states SET retry_last_ts = ?, retry_interval_ms = ? WHERE as_id = ?",
        (retry_last_ts, retry_interval_ms, as_id),
    )


def timeline_events(txn: Txn, after: int, upto: int, limit: int) -> list[StoredEvent]:
    """Live timeline events (not outliers, not rejected) with ``after < stream <= upto``,
    oldest first."""
    rows = txn.fetchall(
        f"SELECT {_EVENT_COLUMNS} FROM events e JOIN rooms r ON r.room_id = e.room_id"
        " WHERE e.stream_ordering > ? AND e.stream_ordering <= ?"
        " AND e.outlier = 0 AND e.rejected_reason IS NULL"
        " ORDER BY e.stream_ordering LIMIT ?",
        (after, upto, limit),
    )
    return [_row_to_stored(row) for row in rows]


def to_device_messages(txn: Txn, after: int, upto: int, limit: int) -> list[ToDeviceRow]:
    """Queued to-device messages (any user's) with ``after < stream_id <= upto``."""
    rows = txn.fetchall(
        "SELECT stream_id, user_id, device_id, message_json FROM to_device_messages"
        " WHERE stream_id > ? AND stream_id <= ? ORDER BY stream_id LIMIT ?",
        (after, upto, limit),
    )
    return [ToDeviceRow(int(r[0]), str(r[1]), str(r[2]), loads(r[3])) for r in rows]


class AppServiceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def load_state(
        self, as_id: str, stream_start: int, to_device_start: int
    ) -> AppServiceState:
        return await self.db.write(load_state, as_id, stream_start, to_device_start)

    async def pending_txns(self, as_id: str) -> list[PendingTxn]:
        return await self.db.read(pending_txns, as_id)

    async def create_txn(
        self, as_id: str, body: JsonDict | None, stream_position: int, to_device_position: int
    ) -> PendingTxn | None:
        return await self.db.write(create_txn, as_id, body, stream_position, to_device_position)

    async def txn_sent(self, as_id: str, txn_id: int) -> None:
        await self.db.write(txn_sent, as_id, txn_id)

    async def set_backoff(self, as_id: str, retry_last_ts: int, retry_interval_ms: int) -> None:
        await self.db.write(set_backoff, as_id, retry_last_ts, retry_interval_ms)

    async def timeline_events(self, after: int, upto: int, limit: int) -> Sequence[StoredEvent]:
        return await self.db.read(timeline_events, after, upto, limit)

    async def to_device_messages(self, after: int, upto: int, limit: int) -> list[ToDeviceRow]:
        return await self.db.read(to_device_messages, after, upto, limit)
