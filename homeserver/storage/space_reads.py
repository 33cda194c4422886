"""Reads the space hierarchy needs: which rooms a server has members in.

spec: server-server "Spaces" — a room is shown to a requesting server when it could
join or peek it; a server with a member joined or invited (in the room, or in a room
a restricted join rule allows) can.
"""

from __future__ import annotations

from collections.abc import Sequence

from .database import Database, Txn, in_chunks


def rooms_with_server_member(txn: Txn, server_name: str, room_ids: Sequence[str]) -> set[str]:
    """Those of ``room_ids`` where a user of ``server_name`` is joined or invited."""
    found: set[str] = set()
    suffix = "%:" + server_name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    for chunk in in_chunks(room_ids):
        rows = txn.fetchall(
            "SELECT DISTINCT room_id FROM current_state WHERE type = 'm.room.member'"
            " AND membership IN ('join', 'invite') AND state_key LIKE ? ESCAPE '\\'"
            f" AND room_id IN {txn.in_list(chunk)}",
            [suffix, *chunk],
        )
        found.update(row[0] for row in rows)
    return found


class SpaceReads:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def rooms_with_server_member(self, server_name: str, room_ids: Sequence[str]) -> set[str]:
        if not room_ids:
            return set()
        return await self.db.read(rooms_with_server_member, server_name, room_ids)
