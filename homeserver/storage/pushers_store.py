"""Pushers: where a user's notifications go, and how far each has delivered them.

spec: client-server ``GET /pushers``, ``POST /pushers/set``. A pusher is named by
(user, app_id, pushkey).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from .database import Txn


@dataclass(frozen=True, slots=True)
class PusherRow:
    user_id: str
    app_id: str
    pushkey: str
    kind: str
    app_display_name: str
    device_display_name: str
    profile_tag: str | None
    lang: str
    data: dict[str, Any]
    device_id: str | None
    pushkey_ts: int
    last_stream_ordering: int


_COLUMNS = (
    "user_id, app_id, pushkey, kind, app_display_name, device_display_name, profile_tag,"
    " lang, data, device_id, pushkey_ts, last_stream_ordering"
)


def _row(row: Sequence[Any]) -> PusherRow:
    values = list(row)
    values[8] = orjson.loads(values[8])
    values[10] = int(values[10])
    values[11] = int(values[11])
    return PusherRow(*values)


def all_pushers(txn: Txn) -> list[PusherRow]:
    return [_row(r) for r in txn.fetchall(f"SELECT {_COLUMNS} FROM pushers")]


def user_pushers(txn: Txn, user_id: str) -> list[PusherRow]:
    rows = txn.fetchall(
        f"SELECT {_COLUMNS} FROM pushers WHERE user_id = ? ORDER BY app_id, pushkey", (user_id,)
    )
    return [_row(r) for r in rows]


def upsert_pusher(txn: Txn, pusher: PusherRow) -> PusherRow:
    """Create the pusher, or update the one with its (user, app_id, pushkey); an update
    keeps the delivery position. Returns the stored pusher."""
    existing = txn.fetchval(
        "SELECT last_stream_ordering FROM pushers WHERE user_id = ? AND app_id = ? AND pushkey = ?",
        (pusher.user_id, pusher.app_id, pusher.pushkey),
    )
    position = pusher.last_stream_ordering if existing is None else int(existing)
    txn.execute(
        f"INSERT INTO pushers ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id, app_id, pushkey) DO UPDATE SET kind = excluded.kind,"
        " app_display_name = excluded.app_display_name,"
        " device_display_name = excluded.device_display_name,"
        " profile_tag = excluded.profile_tag, lang = excluded.lang, data = excluded.data,"
        " device_id = excluded.device_id, pushkey_ts = excluded.pushkey_ts",
        (
            pusher.user_id,
            pusher.app_id,
            pusher.pushkey,
            pusher.kind,
            pusher.app_display_name,
            pusher.device_display_name,
            pusher.profile_tag,
            pusher.lang,
            orjson.dumps(pusher.data).decode("utf-8"),
            pusher.device_id,
            pusher.pushkey_ts,
            position,
        ),
    )
    stored = txn.fetchone(
        f"SELECT {_COLUMNS} FROM pushers WHERE user_id = ? AND app_id = ? AND pushkey = ?",
        (pusher.user_id, pusher.app_id, pusher.pushkey),
    )
    assert stored is not None
    return _row(stored)


def delete_pusher(txn: Txn, user_id: str, app_id: str, pushkey: str) -> bool:
    txn.execute(
        "DELETE FROM pushers WHERE user_id = ? AND app_id = ? AND pushkey = ?",
        (user_id, app_id, pushkey),
    )
    return txn.rowcount > 0


def delete_other_users_pushers(txn: Txn, user_id: str, app_id: str, pushkey: str) -> list[str]:
    """spec: ``append`` false — other users' pushers with this app_id and pushkey go.
    Returns those users."""
    users = [
        row[0]
        for row in txn.fetchall(
            "SELECT user_id FROM pushers WHERE app_id = ? AND pushkey = ? AND user_id <> ?",
            (app_id, pushkey, user_id),
        )
    ]
    if users:
        txn.execute(
            "DELETE FROM pushers WHERE app_id = ? AND pushkey = ? AND user_id <> ?",
            (app_id, pushkey, user_id),
        )
    return users


def set_pusher_position(
    txn: Txn, user_id: str, app_id: str, pushkey: str, stream_ordering: int
) -> None:
    txn.execute(
        "UPDATE pushers SET last_stream_ordering = ? WHERE user_id = ? AND app_id = ?"
        " AND pushkey = ?",
        (stream_ordering, user_id, app_id, pushkey),
    )
