"""Per-user account data, global (``room_id = ''``) and per room, on its own stream.

spec: client-server "Client Config". Each write takes the next position of the
account-data stream (allocated inside the single writer's transaction, so
positions commit in order) and sync reads "everything after position N".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from .database import Database, Txn, in_chunks

JsonDict = dict[str, Any]

GLOBAL = ""  # the room_id column of global account data


@dataclass(frozen=True, slots=True)
class AccountDataItem:
    room_id: str | None  # None: global
    type: str
    content: JsonDict
    stream_id: int


def max_stream_id(txn: Txn) -> int:
    return int(txn.fetchval("SELECT MAX(stream_id) FROM account_data") or 0)


def _room_column(room_id: str | None) -> str:
    return GLOBAL if room_id is None else room_id


def get_account_data(txn: Txn, user_id: str, room_id: str | None, type_: str) -> JsonDict | None:
    text = txn.fetchval(
        "SELECT content FROM account_data WHERE user_id = ? AND room_id = ? AND type = ?",
        (user_id, _room_column(room_id), type_),
    )
    return None if text is None else dict(orjson.loads(text))


def put_account_data(
    txn: Txn, user_id: str, room_id: str | None, type_: str, content: JsonDict
) -> int:
    stream_id = max_stream_id(txn) + 1
    txn.execute(
        "INSERT INTO account_data (user_id, room_id, type, content, stream_id)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, room_id, type) DO UPDATE SET"
        " content = excluded.content, stream_id = excluded.stream_id",
        (user_id, _room_column(room_id), type_, orjson.dumps(content).decode("utf-8"), stream_id),
    )
    return stream_id


def update_account_data(
    txn: Txn,
    user_id: str,
    room_id: str | None,
    type_: str,
    change: Callable[[JsonDict | None], JsonDict],
) -> int:
    """Read-modify-write in one transaction (room tags edit one key of ``m.tag``)."""
    current = get_account_data(txn, user_id, room_id, type_)
    return put_account_data(txn, user_id, room_id, type_, change(current))


def _items(rows: Sequence[Sequence[Any]]) -> list[AccountDataItem]:
    return [
        AccountDataItem(room_id or None, type_, dict(orjson.loads(content)), stream_id)
        for room_id, type_, content, stream_id in rows
    ]


def account_data_since(
    txn: Txn, user_id: str, after: int, upto: int | None = None
) -> list[AccountDataItem]:
    """The user's account data written in ``(after, upto]``, oldest first."""
    sql = (
        "SELECT room_id, type, content, stream_id FROM account_data"
        " WHERE user_id = ? AND stream_id > ?"
    )
    params: list[Any] = [user_id, after]
    if upto is not None:
        sql += " AND stream_id <= ?"
        params.append(upto)
    return _items(txn.fetchall(sql + " ORDER BY stream_id", params))


def room_account_data(txn: Txn, user_id: str, room_ids: Sequence[str]) -> list[AccountDataItem]:
    """All account data of ``user_id`` in the given rooms."""
    found: list[AccountDataItem] = []
    for chunk in in_chunks(room_ids):
        found += _items(
            txn.fetchall(
                "SELECT room_id, type, content, stream_id FROM account_data"
                f" WHERE user_id = ? AND room_id IN {txn.in_list(chunk)} ORDER BY stream_id",
                [user_id, *chunk],
            )
        )
    return found


class AccountDataStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def max_stream_id(self) -> int:
        return await self.db.read(max_stream_id)

    async def get(self, user_id: str, room_id: str | None, type_: str) -> JsonDict | None:
        return await self.db.read(get_account_data, user_id, room_id, type_)

    async def put(self, user_id: str, room_id: str | None, type_: str, content: JsonDict) -> int:
        """Store ``content``; returns its account-data stream position."""
        return await self.db.write(put_account_data, user_id, room_id, type_, content)

    async def update(
        self,
        user_id: str,
        room_id: str | None,
        type_: str,
        change: Callable[[JsonDict | None], JsonDict],
    ) -> int:
        return await self.db.write(update_account_data, user_id, room_id, type_, change)

    async def since(
        self, user_id: str, after: int, upto: int | None = None
    ) -> list[AccountDataItem]:
        return await self.db.read(account_data_since, user_id, after, upto)
