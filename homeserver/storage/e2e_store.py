"""End-to-end encryption keys (the device-lists stream is in ``e2ee_streams_store``).

spec: client-server "End-to-End Encryption" ("Key management API", "Cross-signing",
"Tracking the device list for a user"). Key objects are stored as the canonical JSON
the client uploaded; signatures uploaded later through ``/keys/signatures/upload`` live
in their own table and are merged in when keys are read, as each viewer may see them.

The device-lists stream records "user X's devices or cross-signing keys changed at
position N"; its positions, like the to-device stream's, come from
``e2e_stream_positions`` inside the single writer's transaction, so they commit in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from .database import Database, Txn, in_chunks
from .e2ee_streams_store import (
    DEVICE_LISTS_STREAM,
    device_list_changes,
    membership_changes,
    record_device_list_change,
    stream_position,
    users_sharing,
    users_sharing_a_room_with,
)
from .state_store import joined_in_rooms

JsonDict = dict[str, Any]


class OneTimeKeyConflict(Exception):
    """A one-time key id already holds a different key (the whole upload is refused)."""

    def __init__(self, key_id: str) -> None:
        super().__init__(key_id)
        self.key_id = key_id


def dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")


def loads(text: str) -> Any:
    return orjson.loads(text)


# ---------------------------------------------------------------------- uploads


@dataclass(frozen=True, slots=True)
class KeyCounts:
    """What a device has left: one-time keys per algorithm, unused fallback algorithms."""

    one_time_keys: dict[str, int]
    unused_fallback: list[str]


@dataclass(frozen=True, slots=True)
class Upload:
    device_keys: JsonDict | None
    one_time_keys: list[tuple[str, str, JsonDict | str]]  # (algorithm, key_id, key)
    fallback_keys: list[tuple[str, str, JsonDict | str]]


@dataclass(frozen=True, slots=True)
class UploadResult:
    counts: KeyCounts
    device_list_position: int | None  # set when the device keys changed


def key_counts(txn: Txn, user_id: str, device_id: str) -> KeyCounts:
    rows = txn.fetchall(
        "SELECT algorithm, COUNT(*) FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ?"
        " GROUP BY algorithm",
        (user_id, device_id),
    )
    fallback = txn.fetchall(
        "SELECT algorithm FROM e2e_fallback_keys WHERE user_id = ? AND device_id = ? AND used = 0"
        " ORDER BY algorithm",
        (user_id, device_id),
    )
    return KeyCounts({row[0]: int(row[1]) for row in rows}, [row[0] for row in fallback])


def upload_keys(txn: Txn, user_id: str, device_id: str, upload: Upload) -> UploadResult:
    """Store a ``/keys/upload``; ``OneTimeKeyConflict`` rolls the whole of it back."""
    position: int | None = None
    if upload.device_keys is not None:
        text = dumps(upload.device_keys)
        current = txn.fetchval(
            "SELECT key_json FROM e2e_device_keys WHERE user_id = ? AND device_id = ?",
            (user_id, device_id),
        )
        if current != text:
            txn.execute(
                "INSERT INTO e2e_device_keys (user_id, device_id, key_json) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id, device_id) DO UPDATE SET key_json = excluded.key_json",
                (user_id, device_id, text),
            )
            position = record_device_list_change(txn, [user_id])
    if upload.one_time_keys:
        seq = 1 + int(
            txn.fetchval(
                "SELECT MAX(upload_seq) FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ?",
                (user_id, device_id),
            )
            or 0
        )
        new_rows = []
        for algorithm, key_id, key in upload.one_time_keys:
            text = dumps(key)
            current = txn.fetchval(
                "SELECT key_json FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ?"
                " AND algorithm = ? AND key_id = ?",
                (user_id, device_id, algorithm, key_id),
            )
            if current is None:
                new_rows.append((user_id, device_id, algorithm, key_id, text, seq))
            elif current != text:
                raise OneTimeKeyConflict(f"{algorithm}:{key_id}")
        txn.executemany(
            "INSERT INTO e2e_one_time_keys (user_id, device_id, algorithm, key_id, key_json,"
            " upload_seq) VALUES (?, ?, ?, ?, ?, ?)",
            new_rows,
        )
    for algorithm, key_id, key in upload.fallback_keys:
        text = dumps(key)
        current_row = txn.fetchone(
            "SELECT key_id, key_json FROM e2e_fallback_keys WHERE user_id = ? AND device_id = ?"
            " AND algorithm = ?",
            (user_id, device_id, algorithm),
        )
        if current_row is not None and (current_row[0], current_row[1]) == (key_id, text):
            continue  # the same key again: it stays used if it was
        txn.execute(
            "INSERT INTO e2e_fallback_keys (user_id, device_id, algorithm, key_id, key_json, used)"
            " VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (user_id, device_id, algorithm) DO UPDATE"
            " SET key_id = excluded.key_id, key_json = excluded.key_json, used = 0",
            (user_id, device_id, algorithm, key_id, text),
        )
    return UploadResult(key_counts(txn, user_id, device_id), position)


# ---------------------------------------------------------------------- claims


def claim_keys(
    txn: Txn, wanted: Sequence[tuple[str, str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Claim one key per ``(user_id, device_id, algorithm)``: the oldest one-time key,
    deleted as it is handed out, else the fallback key, marked used but kept.

    Runs in the single writer's transaction, so no key is ever handed out twice.
    Returns ``{(user_id, device_id): {"algorithm:key_id": key}}``.
    """
    claimed: dict[tuple[str, str], dict[str, Any]] = {}
    for user_id, device_id, algorithm in wanted:
        row = txn.fetchone(
            "SELECT key_id, key_json FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ?"
            " AND algorithm = ? ORDER BY upload_seq, key_id LIMIT 1",
            (user_id, device_id, algorithm),
        )
        if row is not None:
            txn.execute(
                "DELETE FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ?"
                " AND algorithm = ? AND key_id = ?",
                (user_id, device_id, algorithm, row[0]),
            )
        else:
            row = txn.fetchone(
                "SELECT key_id, key_json FROM e2e_fallback_keys WHERE user_id = ?"
                " AND device_id = ? AND algorithm = ?",
                (user_id, device_id, algorithm),
            )
            if row is None:
                continue
            txn.execute(
                "UPDATE e2e_fallback_keys SET used = 1 WHERE user_id = ? AND device_id = ?"
                " AND algorithm = ?",
                (user_id, device_id, algorithm),
            )
        claimed.setdefault((user_id, device_id), {})[f"{algorithm}:{row[0]}"] = loads(row[1])
    return claimed


# ---------------------------------------------------------------------- reads


@dataclass(frozen=True, slots=True)
class StoredDevice:
    device_id: str
    keys: JsonDict
    display_name: str | None


@dataclass
class UserKeys:
    devices: dict[str, StoredDevice] = field(default_factory=dict)
    cross_signing: dict[str, JsonDict] = field(default_factory=dict)  # usage -> key


@dataclass(frozen=True, slots=True)
class StoredSignature:
    signer_user_id: str
    signer_key_id: str
    target_user_id: str
    target_key_id: str
    signature: str


def device_keys(
    txn: Txn, user_id: str, device_ids: Sequence[str] | None
) -> dict[str, StoredDevice]:
    sql = (
        "SELECT k.device_id, k.key_json, d.display_name FROM e2e_device_keys k"
        " JOIN devices d ON d.user_id = k.user_id AND d.device_id = k.device_id"
        " WHERE k.user_id = ?"
    )
    found: dict[str, StoredDevice] = {}
    if device_ids is None:
        rows = txn.fetchall(sql, (user_id,))
    else:
        rows = []
        for chunk in in_chunks(device_ids):
            rows += txn.fetchall(
                sql + f" AND k.device_id IN {txn.in_list(chunk)}", [user_id, *chunk]
            )
    for device_id, text, display_name in rows:
        found[device_id] = StoredDevice(device_id, loads(text), display_name)
    return found


def cross_signing_keys(txn: Txn, user_id: str) -> dict[str, JsonDict]:
    rows = txn.fetchall(
        "SELECT usage, key_json FROM e2e_cross_signing_keys WHERE user_id = ?", (user_id,)
    )
    return {usage: loads(text) for usage, text in rows}


def signatures_of(
    txn: Txn, target_user_id: str, target_key_ids: Sequence[str]
) -> list[StoredSignature]:
    found: list[StoredSignature] = []
    for chunk in in_chunks(target_key_ids):
        rows = txn.fetchall(
            "SELECT signer_user_id, signer_key_id, target_user_id, target_key_id, signature"
            " FROM e2e_cross_signing_signatures WHERE target_user_id = ?"
            f" AND target_key_id IN {txn.in_list(chunk)}",
            [target_user_id, *chunk],
        )
        found += [StoredSignature(*row) for row in rows]
    return found


def query_keys(
    txn: Txn, wanted: dict[str, list[str] | None]
) -> tuple[dict[str, UserKeys], list[StoredSignature]]:
    """Device and cross-signing keys of ``wanted`` (user -> device ids, None: all),
    with every stored signature of them (the caller filters what the viewer sees)."""
    found: dict[str, UserKeys] = {}
    signatures: list[StoredSignature] = []
    for user_id, device_ids in wanted.items():
        keys = found[user_id] = UserKeys(
            device_keys(txn, user_id, device_ids), cross_signing_keys(txn, user_id)
        )
        targets = list(keys.devices)
        master = keys.cross_signing.get("master")
        if master is not None:
            targets += [k.partition(":")[2] for k in master.get("keys", {})]
        if targets:
            signatures += signatures_of(txn, user_id, targets)
    return found, signatures


def user_device_ids(txn: Txn, user_id: str) -> set[str]:
    rows = txn.fetchall("SELECT device_id FROM devices WHERE user_id = ?", (user_id,))
    return {row[0] for row in rows}


# ---------------------------------------------------------------------- cross-signing


def put_cross_signing_keys(txn: Txn, user_id: str, keys: dict[str, tuple[str, JsonDict]]) -> int:
    """Store ``usage -> (public_key, key)`` and record the change; its position."""
    for usage, (public_key, key) in keys.items():
        txn.execute(
            "INSERT INTO e2e_cross_signing_keys (user_id, usage, public_key, key_json)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (user_id, usage) DO UPDATE SET"
            " public_key = excluded.public_key, key_json = excluded.key_json",
            (user_id, usage, public_key, dumps(key)),
        )
    return record_device_list_change(txn, [user_id])


def put_signatures(
    txn: Txn, signatures: Sequence[StoredSignature], uploader: str
) -> list[tuple[int, str | None]]:
    """Store signatures; the uploader's own keys change for everyone sharing a room
    with them, other users' master keys only for the uploader. Returns the
    ``(position, only_for)`` of the changes recorded."""
    txn.executemany(
        "INSERT INTO e2e_cross_signing_signatures (signer_user_id, signer_key_id,"
        " target_user_id, target_key_id, signature) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (target_user_id, target_key_id, signer_user_id, signer_key_id)"
        " DO UPDATE SET signature = excluded.signature",
        [
            (s.signer_user_id, s.signer_key_id, s.target_user_id, s.target_key_id, s.signature)
            for s in signatures
        ],
    )
    changes: list[tuple[int, str | None]] = []
    targets = {s.target_user_id for s in signatures}
    if uploader in targets:
        changes.append((record_device_list_change(txn, [uploader]), None))
    others = targets - {uploader}
    if others:
        changes.append((record_device_list_change(txn, others, only_for=uploader), uploader))
    return changes


# ---------------------------------------------------------------------- removal


def delete_device_keys(txn: Txn, user_id: str, device_ids: Sequence[str]) -> int:
    """Forget removed devices' keys and pending messages; the device-list position."""
    for chunk in in_chunks(device_ids):
        ids = txn.in_list(chunk)
        params = [user_id, *chunk]
        for table in (
            "e2e_device_keys",
            "e2e_one_time_keys",
            "e2e_fallback_keys",
            "to_device_messages",
            "to_device_txns",
        ):
            txn.execute(f"DELETE FROM {table} WHERE user_id = ? AND device_id IN {ids}", params)
        txn.execute(
            "DELETE FROM e2e_cross_signing_signatures WHERE target_user_id = ?"
            f" AND target_key_id IN {ids}",
            params,
        )
    return record_device_list_change(txn, [user_id])


def delete_user_keys(txn: Txn, user_id: str) -> int:
    """A deactivated user's cross-signing keys, signatures and key backups go."""
    txn.execute("DELETE FROM e2e_cross_signing_keys WHERE user_id = ?", (user_id,))
    txn.execute(
        "DELETE FROM e2e_cross_signing_signatures WHERE target_user_id = ? OR signer_user_id = ?",
        (user_id, user_id),
    )
    txn.execute("DELETE FROM e2e_room_keys WHERE user_id = ?", (user_id,))
    txn.execute("UPDATE e2e_room_key_versions SET deleted = 1 WHERE user_id = ?", (user_id,))
    return record_device_list_change(txn, [user_id])


class E2eKeysStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def position(self) -> int:
        return await self.db.read(stream_position, DEVICE_LISTS_STREAM)

    async def upload(self, user_id: str, device_id: str, upload: Upload) -> UploadResult:
        return await self.db.write(upload_keys, user_id, device_id, upload)

    async def counts(self, user_id: str, device_id: str) -> KeyCounts:
        return await self.db.read(key_counts, user_id, device_id)

    async def claim(
        self, wanted: Sequence[tuple[str, str, str]]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        return await self.db.write(claim_keys, wanted)

    async def query(
        self, wanted: dict[str, list[str] | None]
    ) -> tuple[dict[str, UserKeys], list[StoredSignature]]:
        return await self.db.read(query_keys, wanted)

    async def cross_signing_keys(self, user_id: str) -> dict[str, JsonDict]:
        return await self.db.read(cross_signing_keys, user_id)

    async def device_ids(self, user_id: str) -> set[str]:
        return await self.db.read(user_device_ids, user_id)

    async def put_cross_signing_keys(
        self, user_id: str, keys: dict[str, tuple[str, JsonDict]]
    ) -> int:
        return await self.db.write(put_cross_signing_keys, user_id, keys)

    async def put_signatures(
        self, signatures: Sequence[StoredSignature], uploader: str
    ) -> list[tuple[int, str | None]]:
        return await self.db.write(put_signatures, signatures, uploader)

    async def record_change(self, user_ids: Iterable[str]) -> int:
        return await self.db.write(record_device_list_change, list(user_ids))

    async def delete_devices(self, user_id: str, device_ids: Sequence[str]) -> int:
        return await self.db.write(delete_device_keys, user_id, device_ids)

    async def delete_user(self, user_id: str) -> int:
        return await self.db.write(delete_user_keys, user_id)

    async def changes(self, after: int, upto: int, viewer: str) -> list[tuple[str, bool]]:
        return await self.db.read(device_list_changes, after, upto, viewer)

    async def users_sharing(self, room_ids: Sequence[str], candidates: Sequence[str]) -> set[str]:
        return await self.db.read(users_sharing, room_ids, candidates)

    async def viewers_of(self, user_id: str) -> set[str]:
        return await self.db.read(users_sharing_a_room_with, user_id)

    async def joined_members(self, room_ids: Sequence[str]) -> set[str]:
        return await self.db.read(joined_in_rooms, room_ids)

    async def membership_changes(
        self, room_ids: Sequence[str], after: int, upto: int
    ) -> list[tuple[str, str, str]]:
        return await self.db.read(membership_changes, room_ids, after, upto)
