"""Server-side key backups: versions and the room keys stored in them.

spec: client-server "Server-side key backups". Version numbers count up per user and
are never reused: a deleted version stays as a row marked deleted (deleting it again
succeeds). A version's ``etag`` moves on every change of its keys.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .database import Database, Txn
from .e2e_store import dumps, loads

JsonDict = dict[str, Any]


class BackupVersionMissing(Exception):
    """No such (undeleted) backup version."""


class WrongBackupVersion(Exception):
    """Keys may only be written to the current version."""

    def __init__(self, current: int) -> None:
        super().__init__(current)
        self.current = current


@dataclass(frozen=True, slots=True)
class BackupVersion:
    version: int
    algorithm: str
    auth_data: JsonDict
    etag: int
    count: int


@dataclass(frozen=True, slots=True)
class RoomKey:
    first_message_index: int
    forwarded_count: int
    is_verified: bool
    session_data: JsonDict

    def to_json(self) -> JsonDict:
        return {
            "first_message_index": self.first_message_index,
            "forwarded_count": self.forwarded_count,
            "is_verified": self.is_verified,
            "session_data": self.session_data,
        }


@dataclass(frozen=True, slots=True)
class Counted:
    etag: int
    count: int


ShouldReplace = Callable[[RoomKey, RoomKey], bool]  # (stored, uploaded) -> replace?


def _current(txn: Txn, user_id: str) -> int | None:
    value = txn.fetchval(
        "SELECT MAX(version) FROM e2e_room_key_versions WHERE user_id = ? AND deleted = 0",
        (user_id,),
    )
    return None if value is None else int(value)


def _exists(txn: Txn, user_id: str, version: int) -> bool:
    row = txn.fetchone(
        "SELECT 1 FROM e2e_room_key_versions WHERE user_id = ? AND version = ? AND deleted = 0",
        (user_id, version),
    )
    return row is not None


def _count(txn: Txn, user_id: str, version: int) -> int:
    return int(
        txn.fetchval(
            "SELECT COUNT(*) FROM e2e_room_keys WHERE user_id = ? AND version = ?",
            (user_id, version),
        )
        or 0
    )


def _counted(txn: Txn, user_id: str, version: int) -> Counted:
    etag = txn.fetchval(
        "SELECT etag FROM e2e_room_key_versions WHERE user_id = ? AND version = ?",
        (user_id, version),
    )
    return Counted(int(etag or 0), _count(txn, user_id, version))


def _bump_etag(txn: Txn, user_id: str, version: int) -> None:
    txn.execute(
        "UPDATE e2e_room_key_versions SET etag = etag + 1 WHERE user_id = ? AND version = ?",
        (user_id, version),
    )


def create_version(txn: Txn, user_id: str, algorithm: str, auth_data: JsonDict) -> int:
    last = txn.fetchval(
        "SELECT MAX(version) FROM e2e_room_key_versions WHERE user_id = ?", (user_id,)
    )
    version = int(last or 0) + 1
    txn.execute(
        "INSERT INTO e2e_room_key_versions (user_id, version, algorithm, auth_data, etag,"
        " deleted) VALUES (?, ?, ?, ?, 0, 0)",
        (user_id, version, algorithm, dumps(auth_data)),
    )
    return version


def get_version(txn: Txn, user_id: str, version: int | None) -> BackupVersion | None:
    """The given undeleted version, or the current one when ``version`` is None."""
    if version is None:
        version = _current(txn, user_id)
        if version is None:
            return None
    row = txn.fetchone(
        "SELECT algorithm, auth_data, etag FROM e2e_room_key_versions"
        " WHERE user_id = ? AND version = ? AND deleted = 0",
        (user_id, version),
    )
    if row is None:
        return None
    return BackupVersion(version, row[0], loads(row[1]), int(row[2]), _count(txn, user_id, version))


def update_version(txn: Txn, user_id: str, version: int, auth_data: JsonDict) -> None:
    txn.execute(
        "UPDATE e2e_room_key_versions SET auth_data = ? WHERE user_id = ? AND version = ?"
        " AND deleted = 0",
        (dumps(auth_data), user_id, version),
    )


def delete_version(txn: Txn, user_id: str, version: int) -> bool:
    """Mark deleted and drop its keys; False when the version never existed."""
    row = txn.fetchone(
        "SELECT 1 FROM e2e_room_key_versions WHERE user_id = ? AND version = ?",
        (user_id, version),
    )
    if row is None:
        return False
    txn.execute(
        "UPDATE e2e_room_key_versions SET deleted = 1 WHERE user_id = ? AND version = ?",
        (user_id, version),
    )
    txn.execute("DELETE FROM e2e_room_keys WHERE user_id = ? AND version = ?", (user_id, version))
    return True


def put_keys(
    txn: Txn,
    user_id: str,
    version: int,
    keys: Sequence[tuple[str, str, RoomKey]],
    should_replace: ShouldReplace,
) -> Counted:
    """Store keys into the current version, keeping the better of two for a session."""
    current = _current(txn, user_id)
    if current is None:
        raise BackupVersionMissing()
    if current != version:
        raise WrongBackupVersion(current)
    changed = False
    for room_id, session_id, key in keys:
        row = txn.fetchone(
            "SELECT first_message_index, forwarded_count, is_verified, session_data"
            " FROM e2e_room_keys WHERE user_id = ? AND version = ? AND room_id = ?"
            " AND session_id = ?",
            (user_id, version, room_id, session_id),
        )
        values = (
            key.first_message_index,
            key.forwarded_count,
            int(key.is_verified),
            dumps(key.session_data),
        )
        if row is None:
            txn.execute(
                "INSERT INTO e2e_room_keys (user_id, version, room_id, session_id,"
                " first_message_index, forwarded_count, is_verified, session_data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (user_id, version, room_id, session_id, *values),
            )
            changed = True
            continue
        stored = RoomKey(int(row[0]), int(row[1]), bool(row[2]), loads(row[3]))
        if should_replace(stored, key):
            txn.execute(
                "UPDATE e2e_room_keys SET first_message_index = ?, forwarded_count = ?,"
                " is_verified = ?, session_data = ? WHERE user_id = ? AND version = ?"
                " AND room_id = ? AND session_id = ?",
                (*values, user_id, version, room_id, session_id),
            )
            changed = True
    if changed:
        _bump_etag(txn, user_id, version)
    return _counted(txn, user_id, version)


def _where(room_id: str | None, session_id: str | None) -> tuple[str, list[str]]:
    sql = ""
    params: list[str] = []
    if room_id is not None:
        sql += " AND room_id = ?"
        params.append(room_id)
        if session_id is not None:
            sql += " AND session_id = ?"
            params.append(session_id)
    return sql, params


def get_keys(
    txn: Txn, user_id: str, version: int, room_id: str | None, session_id: str | None
) -> list[tuple[str, str, RoomKey]] | None:
    """The keys of the version (of a room, of a session); None when no such version."""
    if not _exists(txn, user_id, version):
        return None
    where, params = _where(room_id, session_id)
    rows = txn.fetchall(
        "SELECT room_id, session_id, first_message_index, forwarded_count, is_verified,"
        " session_data FROM e2e_room_keys WHERE user_id = ? AND version = ?"
        + where
        + " ORDER BY room_id, session_id",
        [user_id, version, *params],
    )
    return [
        (row[0], row[1], RoomKey(int(row[2]), int(row[3]), bool(row[4]), loads(row[5])))
        for row in rows
    ]


def delete_keys(
    txn: Txn, user_id: str, version: int, room_id: str | None, session_id: str | None
) -> Counted | None:
    if not _exists(txn, user_id, version):
        return None
    where, params = _where(room_id, session_id)
    txn.execute(
        "DELETE FROM e2e_room_keys WHERE user_id = ? AND version = ?" + where,
        [user_id, version, *params],
    )
    if txn.rowcount:
        _bump_etag(txn, user_id, version)
    return _counted(txn, user_id, version)


class KeyBackupStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create_version(self, user_id: str, algorithm: str, auth_data: JsonDict) -> int:
        return await self.db.write(create_version, user_id, algorithm, auth_data)

    async def get_version(self, user_id: str, version: int | None) -> BackupVersion | None:
        return await self.db.read(get_version, user_id, version)

    async def update_version(self, user_id: str, version: int, auth_data: JsonDict) -> None:
        await self.db.write(update_version, user_id, version, auth_data)

    async def delete_version(self, user_id: str, version: int) -> bool:
        return await self.db.write(delete_version, user_id, version)

    async def put_keys(
        self,
        user_id: str,
        version: int,
        keys: Sequence[tuple[str, str, RoomKey]],
        should_replace: ShouldReplace,
    ) -> Counted:
        return await self.db.write(put_keys, user_id, version, keys, should_replace)

    async def get_keys(
        self, user_id: str, version: int, room_id: str | None, session_id: str | None
    ) -> list[tuple[str, str, RoomKey]] | None:
        return await self.db.read(get_keys, user_id, version, room_id, session_id)

    async def delete_keys(
        self, user_id: str, version: int, room_id: str | None, session_id: str | None
    ) -> Counted | None:
        return await self.db.write(delete_keys, user_id, version, room_id, session_id)
