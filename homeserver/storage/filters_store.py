"""Uploaded sync filters (spec: client-server ``POST /user/{userId}/filter``).

Filter ids are per user, small integers; uploading a filter identical to one the
user already has returns the existing id (bots upload the same filter at every start).
"""

from __future__ import annotations

from typing import Any

import orjson

from .database import Database, Txn

JsonDict = dict[str, Any]


def _canonical(definition: JsonDict) -> str:
    return orjson.dumps(definition, option=orjson.OPT_SORT_KEYS).decode("utf-8")


def add_filter(txn: Txn, user_id: str, definition: JsonDict) -> int:
    text = _canonical(definition)
    existing = txn.fetchval(
        "SELECT filter_id FROM filters WHERE user_id = ? AND json = ?", (user_id, text)
    )
    if existing is not None:
        return int(existing)
    filter_id = int(
        txn.fetchval("SELECT MAX(filter_id) FROM filters WHERE user_id = ?", (user_id,)) or -1
    )
    filter_id += 1
    txn.execute(
        "INSERT INTO filters (user_id, filter_id, json) VALUES (?, ?, ?)",
        (user_id, filter_id, text),
    )
    return filter_id


def get_filter(txn: Txn, user_id: str, filter_id: int) -> JsonDict | None:
    text = txn.fetchval(
        "SELECT json FROM filters WHERE user_id = ? AND filter_id = ?", (user_id, filter_id)
    )
    return None if text is None else dict(orjson.loads(text))


class FiltersStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, user_id: str, definition: JsonDict) -> int:
        return await self.db.write(add_filter, user_id, definition)

    async def get(self, user_id: str, filter_id: int) -> JsonDict | None:
        return await self.db.read(get_filter, user_id, filter_id)
