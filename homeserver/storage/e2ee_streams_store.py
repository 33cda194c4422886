"""The E2EE streams: positions of the device-lists and to-device streams, and the
device-list change log with the "who shares a room with whom" reads it is filtered by.

spec: client-server "Tracking the device list for a user". A change records "user X's
devices or cross-signing keys changed at position N"; positions come from
``e2e_stream_positions`` inside the single writer's transaction, so they commit in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import orjson

from .database import Txn, in_chunks

TO_DEVICE_STREAM = "to_device"
DEVICE_LISTS_STREAM = "device_lists"


# ---------------------------------------------------------------------- stream positions


def stream_position(txn: Txn, stream: str) -> int:
    return int(
        txn.fetchval("SELECT position FROM e2e_stream_positions WHERE stream = ?", (stream,)) or 0
    )


def allocate_positions(txn: Txn, stream: str, count: int) -> int:
    """Reserve ``count`` positions of ``stream``; returns the last (they end there)."""
    current = txn.fetchval("SELECT position FROM e2e_stream_positions WHERE stream = ?", (stream,))
    if current is None:
        txn.execute(
            "INSERT INTO e2e_stream_positions (stream, position) VALUES (?, ?)", (stream, count)
        )
        return count
    last = int(current) + count
    txn.execute("UPDATE e2e_stream_positions SET position = ? WHERE stream = ?", (last, stream))
    return last


# ---------------------------------------------------------------------- device lists


def record_device_list_change(
    txn: Txn, user_ids: Iterable[str], only_for: str | None = None
) -> int:
    """Record that ``user_ids``' device lists changed; returns the stream position."""
    users = sorted(set(user_ids))
    position = allocate_positions(txn, DEVICE_LISTS_STREAM, 1)
    txn.executemany(
        "INSERT INTO device_list_changes (stream_id, user_id, only_for) VALUES (?, ?, ?)",
        [(position, user_id, only_for) for user_id in users],
    )
    return position


def device_list_changes(txn: Txn, after: int, upto: int, viewer: str) -> list[tuple[str, bool]]:
    """``(user_id, private)`` for the users whose device lists changed in
    ``(after, upto]`` as ``viewer`` may learn (private: a change for the viewer only)."""
    rows = txn.fetchall(
        "SELECT DISTINCT user_id, only_for FROM device_list_changes"
        " WHERE stream_id > ? AND stream_id <= ? AND (only_for IS NULL OR only_for = ?)",
        (after, upto, viewer),
    )
    return [(row[0], row[1] is not None) for row in rows]


def users_sharing(txn: Txn, room_ids: Sequence[str], candidates: Sequence[str]) -> set[str]:
    """Those of ``candidates`` joined to one of ``room_ids``."""
    found: set[str] = set()
    if not room_ids:
        return found
    for users in in_chunks(candidates):
        for rooms in in_chunks(room_ids):
            rows = txn.fetchall(
                "SELECT DISTINCT state_key FROM current_state WHERE type = 'm.room.member'"
                f" AND membership = 'join' AND state_key IN {txn.in_list(users)}"
                f" AND room_id IN {txn.in_list(rooms)}",
                [*users, *rooms],
            )
            found.update(row[0] for row in rows)
    return found


def users_sharing_a_room_with(txn: Txn, user_id: str) -> set[str]:
    """Everyone joined to a room ``user_id`` is joined to (``user_id`` included)."""
    rows = txn.fetchall(
        "SELECT DISTINCT o.state_key FROM current_state m JOIN current_state o"
        " ON o.room_id = m.room_id AND o.type = 'm.room.member' AND o.membership = 'join'"
        " WHERE m.type = 'm.room.member' AND m.state_key = ? AND m.membership = 'join'",
        (user_id,),
    )
    return {row[0] for row in rows} | {user_id}


def membership_changes(
    txn: Txn, room_ids: Sequence[str], after: int, upto: int
) -> list[tuple[str, str, str]]:
    """``(room_id, user_id, membership)`` of the last membership event of each user in
    each room within ``(after, upto]``."""
    latest: dict[tuple[str, str], str] = {}
    for chunk in in_chunks(room_ids):
        rows = txn.fetchall(
            "SELECT room_id, state_key, json FROM events WHERE type = 'm.room.member'"
            f" AND room_id IN {txn.in_list(chunk)} AND stream_ordering > ?"
            " AND stream_ordering <= ? AND outlier = 0 AND rejected_reason IS NULL"
            " ORDER BY stream_ordering",
            [*chunk, after, upto],
        )
        for room_id, state_key, text in rows:
            content = orjson.loads(text).get("content")
            membership = content.get("membership") if isinstance(content, dict) else None
            latest[(room_id, state_key)] = membership if isinstance(membership, str) else "leave"
    return [(room, user, membership) for (room, user), membership in latest.items()]
