"""What push rules decided per (user, event), the unread counts read from it, and the
reads the push rule evaluator makes of a room.

spec: client-server "Receiving notifications" (unread counts in ``/sync``), "Listing
Notifications" (``GET /notifications``). Rows are kept for events that notify or
highlight; ``stream_ordering`` is the event's position in the room-events stream.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from .database import Txn, in_chunks
from .events_store import _EVENT_COLUMNS, StoredEvent, _row_to_stored


@dataclass(frozen=True, slots=True)
class PushActionRow:
    user_id: str
    room_id: str
    event_id: str
    stream_ordering: int
    actions: list[Any]
    notify: bool
    highlight: bool
    ts: int


@dataclass(frozen=True, slots=True)
class NotificationRow:
    stream_ordering: int
    event_id: str
    room_id: str
    actions: list[Any]
    highlight: bool
    ts: int


def insert_push_actions(
    txn: Txn, rows: Sequence[PushActionRow], stream_ordering: int | None = None
) -> None:
    """Store rows; evaluating an event again (after a restart) changes nothing.
    ``stream_ordering``, when given, replaces the rows' own (one event's rows, evaluated
    before the event had its position)."""
    encoded: dict[int, str] = {}  # most rows of an event share one list of actions

    def actions_json(actions: list[Any]) -> str:
        text = encoded.get(id(actions))
        if text is None:
            text = encoded[id(actions)] = orjson.dumps(actions).decode("utf-8")
        return text

    txn.executemany(
        "INSERT INTO event_push_actions (user_id, room_id, event_id, stream_ordering, actions,"
        " notify, highlight, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id, room_id, stream_ordering) DO NOTHING",
        [
            (
                r.user_id,
                r.room_id,
                r.event_id,
                r.stream_ordering if stream_ordering is None else stream_ordering,
                actions_json(r.actions),
                1 if r.notify else 0,
                1 if r.highlight else 0,
                r.ts,
            )
            for r in rows
        ],
    )


def unread_counts(
    txn: Txn,
    user_id: str,
    room_ids: Sequence[str],
    receipt_stream_orderings: Mapping[str, int] | None = None,
) -> dict[str, tuple[int, int]]:
    """``{room_id: (notification_count, highlight_count)}`` of the events after the
    user's read receipt in each room (its stream ordering; 0 without one).

    spec: ``GET /sync`` "Unread Notification Counts". Every room asked about is in the
    answer, with ``(0, 0)`` when nothing is unread. One statement per 500 rooms.
    """
    receipts = receipt_stream_orderings or {}
    counts: dict[str, tuple[int, int]] = {room_id: (0, 0) for room_id in room_ids}
    for chunk in in_chunks(room_ids):
        values: list[Any] = []
        for room_id in chunk:
            values += [room_id, int(receipts.get(room_id, 0))]
        rows = txn.fetchall(
            "SELECT v.column1, SUM(e.notify), SUM(e.highlight)"
            " FROM (VALUES " + ", ".join(["(?, ?)"] * len(chunk)) + ") AS v"
            " JOIN event_push_actions e ON e.user_id = ? AND e.room_id = v.column1"
            " AND e.stream_ordering > v.column2 GROUP BY v.column1",
            [*values, user_id],
        )
        for room_id, notify, highlight in rows:
            counts[room_id] = (int(notify or 0), int(highlight or 0))
    return counts


def notifications(
    txn: Txn, user_id: str, before: int | None, limit: int, only_highlight: bool
) -> list[NotificationRow]:
    """The user's notifications, newest first, older than ``before`` when given."""
    sql = (
        "SELECT stream_ordering, event_id, room_id, actions, highlight, ts"
        " FROM event_push_actions WHERE user_id = ? AND notify = 1"
    )
    params: list[Any] = [user_id]
    if before is not None:
        sql += " AND stream_ordering < ?"
        params.append(before)
    if only_highlight:
        sql += " AND highlight = 1"
    rows = txn.fetchall(sql + " ORDER BY stream_ordering DESC LIMIT ?", [*params, limit])
    return [_notification(row) for row in rows]


def notifications_after(txn: Txn, user_id: str, after: int, limit: int) -> list[NotificationRow]:
    """The user's notifications after ``after``, oldest first (what a pusher sends)."""
    rows = txn.fetchall(
        "SELECT stream_ordering, event_id, room_id, actions, highlight, ts"
        " FROM event_push_actions WHERE user_id = ? AND notify = 1 AND stream_ordering > ?"
        " ORDER BY stream_ordering LIMIT ?",
        (user_id, after, limit),
    )
    return [_notification(row) for row in rows]


def _notification(row: Sequence[Any]) -> NotificationRow:
    stream, event_id, room_id, actions, highlight, ts = row
    return NotificationRow(
        int(stream), event_id, room_id, orjson.loads(actions), bool(highlight), int(ts)
    )


# ---------------------------------------------------------------- evaluator reads


def get_position(txn: Txn, name: str) -> int | None:
    value = txn.fetchval("SELECT position FROM push_positions WHERE name = ?", (name,))
    return None if value is None else int(value)


def set_position(txn: Txn, name: str, position: int) -> None:
    txn.execute(
        "INSERT INTO push_positions (name, position) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET position = excluded.position",
        (name, position),
    )


def events_between(txn: Txn, after: int, upto: int, limit: int) -> list[StoredEvent]:
    """Accepted events of every room with ``after < stream <= upto``, oldest first."""
    rows = txn.fetchall(
        f"SELECT {_EVENT_COLUMNS} FROM events e JOIN rooms r ON r.room_id = e.room_id"
        " WHERE e.stream_ordering > ? AND e.stream_ordering <= ?"
        " AND e.outlier = 0 AND e.rejected_reason IS NULL ORDER BY e.stream_ordering LIMIT ?",
        (after, upto, limit),
    )
    return [_row_to_stored(row) for row in rows]


def joined_members(txn: Txn, room_id: str) -> list[str]:
    """Every joined member of the room (current state)."""
    rows = txn.fetchall(
        "SELECT state_key FROM current_state WHERE room_id = ? AND type = 'm.room.member'"
        " AND membership = 'join'",
        (room_id,),
    )
    return [row[0] for row in rows]


def member_display_names(txn: Txn, room_id: str, user_ids: Sequence[str]) -> dict[str, str]:
    """The display names of these members in the room (those that have one)."""
    found: dict[str, str] = {}
    for chunk in in_chunks(user_ids):
        rows = txn.fetchall(
            "SELECT c.state_key, e.json FROM current_state c JOIN events e"
            " ON e.event_id = c.event_id WHERE c.room_id = ? AND c.type = 'm.room.member'"
            f" AND c.state_key IN {txn.in_list(chunk)}",
            [room_id, *chunk],
        )
        for user_id, text in rows:
            content = orjson.loads(text).get("content")
            name = content.get("displayname") if isinstance(content, dict) else None
            if isinstance(name, str) and name:
                found[user_id] = name
    return found
