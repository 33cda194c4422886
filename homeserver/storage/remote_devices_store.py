"""The cache of remote users' device lists and cross-signing keys.

spec: server-server "Device Management": a server caches a remote user's device list
(seeded from ``/user/devices``), then applies ``m.device_list_update`` EDUs in order:
each names the ``prev_id`` it follows; one we cannot place means an EDU was lost, and
the list is fetched again. Each applied change is also a change on the local
device-lists stream, so local users sharing a room see the user in
``device_lists.changed`` (client-server "Tracking the device list for a user").
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from .database import Database, Txn, in_chunks
from .e2ee_streams_store import record_device_list_change

JsonDict = dict[str, Any]


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")


class Outcome(enum.Enum):
    APPLIED = "applied"
    SEEN = "seen"  # at or before what we have: a repeat
    GAP = "gap"  # follows an update we never got: resync
    UNTRACKED = "untracked"  # no cache for this user (yet)


@dataclass(frozen=True, slots=True)
class DeviceUpdate:
    """One ``m.device_list_update``, validated."""

    user_id: str
    device_id: str
    stream_id: int
    prev_ids: tuple[int, ...]
    deleted: bool
    keys: JsonDict | None
    display_name: str | None


@dataclass(frozen=True, slots=True)
class RemoteDevice:
    device_id: str
    keys: JsonDict | None
    display_name: str | None


@dataclass
class CachedUser:
    stream_id: int
    devices: dict[str, RemoteDevice] = field(default_factory=dict)
    cross_signing: dict[str, JsonDict] = field(default_factory=dict)  # usage -> key


def tracked(txn: Txn, user_ids: Sequence[str]) -> dict[str, tuple[int, bool]]:
    """``user_id -> (stream_id, stale)`` for the users we cache."""
    found: dict[str, tuple[int, bool]] = {}
    for chunk in in_chunks(user_ids):
        rows = txn.fetchall(
            "SELECT user_id, stream_id, stale FROM remote_device_list_users"
            f" WHERE user_id IN {txn.in_list(chunk)}",
            chunk,
        )
        found.update((row[0], (int(row[1]), bool(row[2]))) for row in rows)
    return found


def cached_users(txn: Txn, user_ids: Sequence[str]) -> dict[str, CachedUser]:
    """The cached lists of those of ``user_ids`` tracked and not stale."""
    users = {
        user_id: CachedUser(stream_id)
        for user_id, (stream_id, stale) in tracked(txn, user_ids).items()
        if not stale
    }
    for chunk in in_chunks(users):
        ids = txn.in_list(chunk)
        for user_id, device_id, keys, name in txn.fetchall(
            "SELECT user_id, device_id, keys_json, display_name FROM remote_devices"
            f" WHERE user_id IN {ids}",
            chunk,
        ):
            users[user_id].devices[device_id] = RemoteDevice(
                device_id, None if keys is None else orjson.loads(keys), name
            )
        for user_id, usage, key in txn.fetchall(
            "SELECT user_id, usage, key_json FROM remote_cross_signing_keys"
            f" WHERE user_id IN {ids}",
            chunk,
        ):
            users[user_id].cross_signing[usage] = orjson.loads(key)
    return users


def apply_update(
    txn: Txn, update: DeviceUpdate, batch: Iterable[int], now_ms: int
) -> tuple[Outcome, int | None]:
    """Apply one EDU to the cache if it follows what we have (its ``prev_id`` is our
    stream_id, or an EDU of ``batch``, the ones of this user just applied before it).
    Returns the outcome and, when the cache changed, the device-lists position."""
    row = txn.fetchone(
        "SELECT stream_id, stale FROM remote_device_list_users WHERE user_id = ?",
        (update.user_id,),
    )
    if row is None:
        return Outcome.UNTRACKED, None
    current, stale = int(row[0]), bool(row[1])
    if stale:
        return Outcome.GAP, None
    if update.stream_id <= current:
        return Outcome.SEEN, None
    known = {current, *batch}
    if not update.prev_ids or any(prev not in known for prev in update.prev_ids):
        txn.execute(
            "UPDATE remote_device_list_users SET stale = 1 WHERE user_id = ?", (update.user_id,)
        )
        return Outcome.GAP, None
    if update.deleted:
        txn.execute(
            "DELETE FROM remote_devices WHERE user_id = ? AND device_id = ?",
            (update.user_id, update.device_id),
        )
    else:
        txn.execute(
            "INSERT INTO remote_devices (user_id, device_id, keys_json, display_name)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (user_id, device_id) DO UPDATE SET"
            " keys_json = excluded.keys_json, display_name = excluded.display_name",
            (
                update.user_id,
                update.device_id,
                None if update.keys is None else _dumps(update.keys),
                update.display_name,
            ),
        )
    txn.execute(
        "UPDATE remote_device_list_users SET stream_id = ?, updated_ts = ? WHERE user_id = ?",
        (update.stream_id, now_ms, update.user_id),
    )
    return Outcome.APPLIED, record_device_list_change(txn, [update.user_id])


def replace_user(
    txn: Txn,
    user_id: str,
    stream_id: int,
    devices: Sequence[RemoteDevice],
    cross_signing: Mapping[str, JsonDict],
    now_ms: int,
) -> int:
    """Store a whole list fetched from the user's server; the device-lists position."""
    txn.execute("DELETE FROM remote_devices WHERE user_id = ?", (user_id,))
    txn.executemany(
        "INSERT INTO remote_devices (user_id, device_id, keys_json, display_name)"
        " VALUES (?, ?, ?, ?)",
        [
            (user_id, d.device_id, None if d.keys is None else _dumps(d.keys), d.display_name)
            for d in devices
        ],
    )
    txn.execute("DELETE FROM remote_cross_signing_keys WHERE user_id = ?", (user_id,))
    txn.executemany(
        "INSERT INTO remote_cross_signing_keys (user_id, usage, key_json) VALUES (?, ?, ?)",
        [(user_id, usage, _dumps(key)) for usage, key in cross_signing.items()],
    )
    txn.execute(
        "INSERT INTO remote_device_list_users (user_id, stream_id, stale, updated_ts)"
        " VALUES (?, ?, 0, ?) ON CONFLICT (user_id) DO UPDATE SET"
        " stream_id = excluded.stream_id, stale = 0, updated_ts = excluded.updated_ts",
        (user_id, stream_id, now_ms),
    )
    return record_device_list_change(txn, [user_id])


def put_cross_signing(txn: Txn, user_id: str, keys: Mapping[str, JsonDict]) -> int:
    """An ``m.signing_key_update``: the keys it carries replace ours."""
    txn.executemany(
        "INSERT INTO remote_cross_signing_keys (user_id, usage, key_json) VALUES (?, ?, ?)"
        " ON CONFLICT (user_id, usage) DO UPDATE SET key_json = excluded.key_json",
        [(user_id, usage, _dumps(key)) for usage, key in keys.items()],
    )
    return record_device_list_change(txn, [user_id])


def mark_stale(txn: Txn, user_id: str) -> None:
    txn.execute("UPDATE remote_device_list_users SET stale = 1 WHERE user_id = ?", (user_id,))


def forget(txn: Txn, user_ids: Sequence[str]) -> None:
    """Stop caching: the next query asks their server again."""
    for chunk in in_chunks(user_ids):
        ids = txn.in_list(chunk)
        for table in ("remote_device_list_users", "remote_devices", "remote_cross_signing_keys"):
            txn.execute(f"DELETE FROM {table} WHERE user_id IN {ids}", chunk)


def record_change(txn: Txn, user_id: str) -> int:
    """An update for a user we do not cache still tells local clients to refetch."""
    return record_device_list_change(txn, [user_id])


class RemoteDevicesStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def tracked(self, user_ids: Sequence[str]) -> dict[str, tuple[int, bool]]:
        return await self.db.read(tracked, user_ids)

    async def cached_users(self, user_ids: Sequence[str]) -> dict[str, CachedUser]:
        return await self.db.read(cached_users, user_ids)

    async def apply_update(
        self, update: DeviceUpdate, batch: Iterable[int], now_ms: int
    ) -> tuple[Outcome, int | None]:
        return await self.db.write(apply_update, update, list(batch), now_ms)

    async def replace_user(
        self,
        user_id: str,
        stream_id: int,
        devices: Sequence[RemoteDevice],
        cross_signing: Mapping[str, JsonDict],
        now_ms: int,
    ) -> int:
        return await self.db.write(replace_user, user_id, stream_id, devices, cross_signing, now_ms)

    async def put_cross_signing(self, user_id: str, keys: Mapping[str, JsonDict]) -> int:
        return await self.db.write(put_cross_signing, user_id, keys)

    async def mark_stale(self, user_id: str) -> None:
        await self.db.write(mark_stale, user_id)

    async def forget(self, user_ids: Sequence[str]) -> None:
        await self.db.write(forget, user_ids)

    async def record_change(self, user_id: str) -> int:
        return await self.db.write(record_change, user_id)
