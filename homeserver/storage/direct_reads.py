"""The reads that find an existing 1:1 direct-message room of two users.

A DM candidate is a room where our user is joined or invited, the other user is joined
or invited too, and nobody else is: a room with a third member is a group chat, not the
pair's DM. Whether it was created as a DM (``is_direct``) is checked by the caller on
the member events.
"""

from __future__ import annotations

from .database import Txn

_LIVE = ("join", "invite")


def pair_rooms(txn: Txn, user_id: str, other: str) -> list[str]:
    """Rooms holding exactly ``user_id`` (local) and ``other`` as joined or invited
    members, oldest membership first."""
    rows = txn.fetchall(
        "SELECT m.room_id FROM local_memberships m"
        " JOIN current_state o ON o.room_id = m.room_id"
        " AND o.type = 'm.room.member' AND o.state_key = ?"
        " WHERE m.user_id = ? AND m.forgotten = 0"
        f" AND m.membership IN {txn.in_list(_LIVE)} AND o.membership IN {txn.in_list(_LIVE)}"
        " AND (SELECT COUNT(*) FROM current_state c WHERE c.room_id = m.room_id"
        f" AND c.type = 'm.room.member' AND c.membership IN {txn.in_list(_LIVE)}) = 2"
        " ORDER BY m.stream_ordering",
        (other, user_id, *_LIVE, *_LIVE, *_LIVE),
    )
    return [row[0] for row in rows]
