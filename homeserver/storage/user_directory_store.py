"""The user directory index and its search.

spec: client-server "User Directory". ``user_directory`` holds each user's name, avatar
and search words; ``user_directory_public_rooms`` the rooms whose members anyone may
find. Both are derived data: ``catch_up`` recomputes the entries touched by the
membership, join-rule and history-visibility events after the stored position, from
current state (so replaying is harmless and a lost update is redone at the next start).
Who a requester may see is decided at search time from ``current_state`` and
``local_memberships``: users joined to a public room, or to a room the requester is in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from .database import Database, Txn
from .room_reads import profile as local_profile
from .search_text import LIKE_ESCAPE, escape_like, search_text, words

INDEXED_TYPES = ("m.room.member", "m.room.join_rules", "m.room.history_visibility")
CATCH_UP_BATCH = 500


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    user_id: str
    display_name: str | None
    avatar_url: str | None


def upsert_entry(
    txn: Txn, user_id: str, display_name: str | None, avatar_url: str | None, text: str
) -> None:
    txn.execute(
        "INSERT INTO user_directory (user_id, display_name, avatar_url, search_text)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
        " display_name = excluded.display_name, avatar_url = excluded.avatar_url,"
        " search_text = excluded.search_text",
        (user_id, display_name, avatar_url, text),
    )


def get_entry(txn: Txn, user_id: str) -> DirectoryEntry | None:
    row = txn.fetchone(
        "SELECT user_id, display_name, avatar_url FROM user_directory WHERE user_id = ?",
        (user_id,),
    )
    return None if row is None else DirectoryEntry(*row)


def _content(json_text: str) -> dict[str, Any]:
    try:
        pdu = orjson.loads(json_text)
    except orjson.JSONDecodeError:
        return {}
    content = pdu.get("content") if isinstance(pdu, dict) else None
    return content if isinstance(content, dict) else {}


def _string(content: dict[str, Any], key: str) -> str | None:
    value = content.get(key)
    return value if isinstance(value, str) and value else None


def refresh_room(txn: Txn, room_id: str) -> None:
    """Whether the room's joined members are public (``public`` join rule or
    ``world_readable`` history), from its current state."""
    rows = txn.fetchall(
        "SELECT cs.type, e.json FROM current_state cs JOIN events e ON e.event_id = cs.event_id"
        " WHERE cs.room_id = ? AND cs.state_key = ''"
        " AND cs.type IN ('m.room.join_rules', 'm.room.history_visibility')",
        (room_id,),
    )
    state = {typ: _content(text) for typ, text in rows}
    public = (
        state.get("m.room.join_rules", {}).get("join_rule") == "public"
        or state.get("m.room.history_visibility", {}).get("history_visibility") == "world_readable"
    )
    if public:
        txn.execute(
            "INSERT INTO user_directory_public_rooms (room_id) VALUES (?)"
            " ON CONFLICT (room_id) DO NOTHING",
            (room_id,),
        )
    else:
        txn.execute("DELETE FROM user_directory_public_rooms WHERE room_id = ?", (room_id,))


def refresh_user(txn: Txn, user_id: str, server_name: str) -> None:
    """The user's entry: a local user's profile, or what a remote user's newest joined
    membership event says."""
    if user_id.partition(":")[2] == server_name:
        found = local_profile(txn, user_id)
        name, avatar = _string(found, "displayname"), _string(found, "avatar_url")
    else:
        text = txn.fetchval(
            "SELECT e.json FROM current_state cs JOIN events e ON e.event_id = cs.event_id"
            " WHERE cs.state_key = ? AND cs.type = 'm.room.member' AND cs.membership = 'join'"
            " ORDER BY e.stream_ordering DESC LIMIT 1",
            (user_id,),
        )
        if text is None:
            return  # never joined anywhere we know: nobody can find them anyway
        content = _content(text)
        name, avatar = _string(content, "displayname"), _string(content, "avatar_url")
    upsert_entry(txn, user_id, name, avatar, search_text(user_id, name))


def get_position(txn: Txn) -> int | None:
    value = txn.fetchval("SELECT stream_ordering FROM user_directory_position WHERE id = 1")
    return None if value is None else int(value)


def _set_position(txn: Txn, position: int) -> None:
    txn.execute(
        "INSERT INTO user_directory_position (id, stream_ordering) VALUES (1, ?)"
        " ON CONFLICT (id) DO UPDATE SET stream_ordering = excluded.stream_ordering",
        (position,),
    )


def catch_up(txn: Txn, server_name: str, batch: int = CATCH_UP_BATCH) -> tuple[int, bool]:
    """Index up to ``batch`` relevant events after the stored position; returns the new
    position and whether more remain. Only committed events are visible to the
    transaction, and the single writer commits stream positions in order, so nothing
    below the returned position can appear later."""
    start = get_position(txn) or 0
    top = int(txn.fetchval("SELECT MAX(stream_ordering) FROM events") or 0)
    if top <= start:
        if get_position(txn) is None:
            _set_position(txn, start)
        return start, False
    rows = txn.fetchall(
        "SELECT stream_ordering, room_id, type, state_key FROM events"
        " WHERE stream_ordering > ? AND stream_ordering <= ?"
        f" AND type IN {txn.in_list(INDEXED_TYPES)}"
        " AND outlier = 0 AND rejected_reason IS NULL"
        " ORDER BY stream_ordering LIMIT ?",
        (start, top, *INDEXED_TYPES, batch),
    )
    more = len(rows) == batch
    position = rows[-1][0] if more else top
    rooms: dict[str, None] = {}
    users: dict[str, None] = {}
    for _, room_id, typ, state_key in rows:
        if typ == "m.room.member":
            if state_key:
                users[state_key] = None
        elif state_key == "":
            rooms[room_id] = None
    for room_id in rooms:
        refresh_room(txn, room_id)
    for user_id in users:
        refresh_user(txn, user_id, server_name)
    _set_position(txn, position)
    return position, more


def search(
    txn: Txn, requester: str, term: str, limit: int, max_words: int
) -> tuple[list[DirectoryEntry], bool]:
    """Users visible to ``requester`` whose words start with every word of ``term``,
    best first: whole-word matches, then those with a name and an avatar; and whether
    there were more than ``limit``."""
    found = list(dict.fromkeys(words(term)))[:max_words]
    if not found:
        return [], False
    escaped = [escape_like(word) for word in found]
    like = f"d.search_text LIKE ? ESCAPE '{LIKE_ESCAPE}'"
    prefix = whole = " AND ".join([like] * len(found))
    params: list[Any] = [f"% {word} %" for word in escaped]
    params += [f"% {word}%" for word in escaped]
    params += [requester, limit + 1]
    rows = txn.fetchall(
        "SELECT d.user_id, d.display_name, d.avatar_url,"
        f" CASE WHEN {whole} THEN 0 ELSE 1 END AS exactness,"
        " (CASE WHEN d.display_name IS NULL THEN 1 ELSE 0 END"
        " + CASE WHEN d.avatar_url IS NULL THEN 1 ELSE 0 END) AS missing"
        " FROM user_directory d"
        f" WHERE {prefix}"
        " AND (EXISTS (SELECT 1 FROM current_state cs"
        "   JOIN user_directory_public_rooms p ON p.room_id = cs.room_id"
        "   WHERE cs.state_key = d.user_id AND cs.type = 'm.room.member'"
        "   AND cs.membership = 'join')"
        " OR EXISTS (SELECT 1 FROM current_state cs"
        "   JOIN local_memberships lm ON lm.room_id = cs.room_id"
        "   WHERE cs.state_key = d.user_id AND cs.type = 'm.room.member'"
        "   AND cs.membership = 'join' AND lm.user_id = ? AND lm.membership = 'join'))"
        " AND NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = d.user_id"
        "   AND u.deactivated = 1)"
        " ORDER BY exactness, missing, d.user_id LIMIT ?",
        params,
    )
    entries = [DirectoryEntry(row[0], row[1], row[2]) for row in rows[:limit]]
    return entries, len(rows) > limit


class UserDirectoryStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def catch_up(self, server_name: str, batch: int = CATCH_UP_BATCH) -> tuple[int, bool]:
        return await self.db.write(catch_up, server_name, batch)

    async def position(self) -> int | None:
        return await self.db.read(get_position)

    async def get_entry(self, user_id: str) -> DirectoryEntry | None:
        return await self.db.read(get_entry, user_id)

    async def search(
        self, requester: str, term: str, limit: int, max_words: int
    ) -> tuple[list[DirectoryEntry], bool]:
        return await self.db.read(search, requester, term, limit, max_words)
