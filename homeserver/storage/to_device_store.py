"""Send-to-device messages, stored per target device until delivered.

spec: client-server "Send-to-Device messaging", "Server behaviour": messages wait for
their device; the next ``/sync`` after one that carried them (its ``since`` at or past
their position) acknowledges and deletes them. Positions come from the to-device
stream (``e2e_stream_positions``), allocated in the single writer's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .database import Database, Txn, in_chunks
from .e2e_store import dumps, loads
from .e2ee_streams_store import TO_DEVICE_STREAM, allocate_positions, stream_position

JsonDict = dict[str, Any]

ALL_DEVICES = "*"
TXN_ID_LIFETIME_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True, slots=True)
class Delivered:
    user_id: str
    device_id: str
    stream_id: int


def send_messages(
    txn: Txn,
    sender: str,
    sender_device: str,
    txn_id: str,
    event_type: str,
    messages: Mapping[str, Mapping[str, JsonDict]],
    now_ms: int,
) -> list[Delivered] | None:
    """Queue one message per target device (``*``: each of the user's devices; a device's
    own entry wins over ``*``); None when this transaction id was already used."""
    seen = txn.fetchone(
        "SELECT 1 FROM to_device_txns WHERE user_id = ? AND device_id = ? AND txn_id = ?",
        (sender, sender_device, txn_id),
    )
    if seen is not None:
        return None
    # Retries come within minutes: a device's older transaction ids are forgotten.
    txn.execute(
        "DELETE FROM to_device_txns WHERE user_id = ? AND device_id = ? AND created_ts < ?",
        (sender, sender_device, now_ms - TXN_ID_LIFETIME_MS),
    )
    txn.execute(
        "INSERT INTO to_device_txns (user_id, device_id, txn_id, created_ts) VALUES (?, ?, ?, ?)",
        (sender, sender_device, txn_id, now_ms),
    )
    targets: list[tuple[str, str, JsonDict]] = []
    for user_id, by_device in sorted(messages.items()):
        wanted = [d for d in by_device if d != ALL_DEVICES]
        existing: set[str] = set()
        if ALL_DEVICES in by_device:
            rows = txn.fetchall("SELECT device_id FROM devices WHERE user_id = ?", (user_id,))
            existing = {row[0] for row in rows}
        else:
            for chunk in in_chunks(wanted):
                rows = txn.fetchall(
                    "SELECT device_id FROM devices WHERE user_id = ?"
                    f" AND device_id IN {txn.in_list(chunk)}",
                    [user_id, *chunk],
                )
                existing.update(row[0] for row in rows)
        for device_id in sorted(existing):
            content = by_device.get(device_id, by_device.get(ALL_DEVICES))
            if content is not None:
                targets.append((user_id, device_id, content))
    if not targets:
        return []
    last = allocate_positions(txn, TO_DEVICE_STREAM, len(targets))
    first = last - len(targets) + 1
    rows_out = []
    delivered = []
    for offset, (user_id, device_id, content) in enumerate(targets):
        stream_id = first + offset
        message = {"sender": sender, "type": event_type, "content": content}
        rows_out.append((user_id, device_id, stream_id, dumps(message)))
        delivered.append(Delivered(user_id, device_id, stream_id))
    txn.executemany(
        "INSERT INTO to_device_messages (user_id, device_id, stream_id, message_json)"
        " VALUES (?, ?, ?, ?)",
        rows_out,
    )
    return delivered


def take_messages(
    txn: Txn, user_id: str, device_id: str, acked: int | None, upto: int, limit: int
) -> list[tuple[int, JsonDict]]:
    """Delete what the device acknowledged (positions up to ``acked``) and return the
    next messages up to ``upto``, oldest first, at most ``limit``."""
    after = 0
    if acked is not None:
        after = acked
        txn.execute(
            "DELETE FROM to_device_messages WHERE user_id = ? AND device_id = ? AND stream_id <= ?",
            (user_id, device_id, acked),
        )
    rows = txn.fetchall(
        "SELECT stream_id, message_json FROM to_device_messages WHERE user_id = ?"
        " AND device_id = ? AND stream_id > ? AND stream_id <= ? ORDER BY stream_id LIMIT ?",
        (user_id, device_id, after, upto, limit),
    )
    return [(int(stream_id), loads(text)) for stream_id, text in rows]


def pending_devices(txn: Txn) -> list[tuple[str, str, int]]:
    """``(user_id, device_id, newest position)`` of every device with messages waiting."""
    rows = txn.fetchall(
        "SELECT user_id, device_id, MAX(stream_id) FROM to_device_messages"
        " GROUP BY user_id, device_id"
    )
    return [(row[0], row[1], int(row[2])) for row in rows]


class ToDeviceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def position(self) -> int:
        return await self.db.read(stream_position, TO_DEVICE_STREAM)

    async def pending_devices(self) -> list[tuple[str, str, int]]:
        return await self.db.read(pending_devices)

    async def send(
        self,
        sender: str,
        sender_device: str,
        txn_id: str,
        event_type: str,
        messages: Mapping[str, Mapping[str, JsonDict]],
        now_ms: int,
    ) -> list[Delivered] | None:
        return await self.db.write(
            send_messages, sender, sender_device, txn_id, event_type, messages, now_ms
        )

    async def take(
        self, user_id: str, device_id: str, acked: int | None, upto: int, limit: int
    ) -> list[tuple[int, JsonDict]]:
        if acked is None:  # nothing to acknowledge: a read will do
            return await self.db.read(take_messages, user_id, device_id, None, upto, limit)
        return await self.db.write(take_messages, user_id, device_id, acked, upto, limit)
