"""Profile fields of local users: one row per (user, field), the value as JSON text.

spec: client-server "Profiles". A write re-reads the whole profile in the writer's
transaction, so the size check (``check``) sees every field, and updates the user's
user-directory entry in the same transaction when the display name or avatar changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from .database import Database, Txn
from .search_text import search_text
from .user_directory_store import upsert_entry

JsonDict = dict[str, Any]

# The value a write passes to remove the field.
DELETE = object()


@dataclass(frozen=True, slots=True)
class ProfileChange:
    before: JsonDict
    after: JsonDict


def get_profile(txn: Txn, user_id: str) -> JsonDict:
    profile: JsonDict = {}
    for field, value in txn.fetchall(
        "SELECT field, value FROM profiles WHERE user_id = ? ORDER BY field", (user_id,)
    ):
        try:
            profile[field] = orjson.loads(value)
        except orjson.JSONDecodeError:
            continue
    return profile


def set_profile_field(txn: Txn, user_id: str, field: str, value: object) -> None:
    """Write one field inside a caller's transaction (registration's default name)."""
    txn.execute(
        "INSERT INTO profiles (user_id, field, value) VALUES (?, ?, ?)"
        " ON CONFLICT (user_id, field) DO UPDATE SET value = excluded.value",
        (user_id, field, orjson.dumps(value).decode("utf-8")),
    )


def _string(profile: JsonDict, field: str) -> str | None:
    value = profile.get(field)
    return value if isinstance(value, str) and value else None


def write_field(
    txn: Txn,
    user_id: str,
    field: str,
    value: object,
    check: Callable[[JsonDict], None],
) -> ProfileChange:
    """Set ``field`` (or remove it, ``value is DELETE``) after ``check(new_profile)``
    accepted the result; raises whatever ``check`` raises, writing nothing."""
    before = get_profile(txn, user_id)
    after = dict(before)
    if value is DELETE:
        after.pop(field, None)
    else:
        after[field] = value
    if after == before:
        return ProfileChange(before, after)
    check(after)
    if value is DELETE:
        txn.execute("DELETE FROM profiles WHERE user_id = ? AND field = ?", (user_id, field))
    else:
        set_profile_field(txn, user_id, field, value)
    name, avatar = _string(after, "displayname"), _string(after, "avatar_url")
    if (name, avatar) != (_string(before, "displayname"), _string(before, "avatar_url")):
        upsert_entry(txn, user_id, name, avatar, search_text(user_id, name))
    return ProfileChange(before, after)


class ProfilesStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get_profile(self, user_id: str) -> JsonDict:
        return await self.db.read(get_profile, user_id)

    async def write_field(
        self,
        user_id: str,
        field: str,
        value: object,
        check: Callable[[JsonDict], None],
    ) -> ProfileChange:
        return await self.db.write(write_field, user_id, field, value, check)
