"""The queries ``/sync`` runs, as plain functions of a ``Txn``.

The sync handler runs many of them inside ONE read transaction (one thread hop for
all the rooms of a response); each is an indexed range or point lookup bounded by
the timeline limit or the room's membership, never a scan of a room's history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from .database import Txn, in_chunks
from .events_store import _EVENT_COLUMNS, StoredEvent, _row_to_stored

# How many rows one timeline may scan looking for events its filter accepts.
MAX_TIMELINE_SCAN = 2000


@dataclass(frozen=True, slots=True)
class Timeline:
    events: list[StoredEvent]  # oldest first
    limited: bool  # more accepted events exist in the window than were returned
    # Some event of the window is not in ``events`` (filtered out or over the limit),
    # so the state at the start of the timeline may differ from the state at its lower bound.
    skipped: bool


def recent_events(
    txn: Txn,
    room_id: str,
    after: int | None,
    upto: int,
    limit: int,
    accept: Callable[[StoredEvent], bool],
) -> Timeline:
    """The newest ``limit`` events of a room with ``after < stream <= upto`` that
    ``accept`` takes, oldest first; reads backwards in pages of ``limit + 1`` rows."""
    page = limit + 1
    collected: list[StoredEvent] = []
    skipped = False
    upper = upto
    scanned = 0
    while True:
        sql = (
            f"SELECT {_EVENT_COLUMNS} FROM events e JOIN rooms r ON r.room_id = e.room_id"
            " WHERE e.room_id = ? AND e.stream_ordering <= ?"
            " AND e.outlier = 0 AND e.rejected_reason IS NULL"
        )
        params: list[Any] = [room_id, upper]
        if after is not None:
            sql += " AND e.stream_ordering > ?"
            params.append(after)
        rows = txn.fetchall(sql + " ORDER BY e.stream_ordering DESC LIMIT ?", [*params, page])
        for row in rows:
            stored = _row_to_stored(row)
            if not accept(stored):
                skipped = True
                continue
            if len(collected) == limit:
                return Timeline(collected[::-1], limited=True, skipped=True)
            collected.append(stored)
        scanned += len(rows)
        if len(rows) < page:
            return Timeline(collected[::-1], limited=False, skipped=skipped)
        if scanned >= MAX_TIMELINE_SCAN:
            return Timeline(collected[::-1], limited=True, skipped=True)
        upper = int(rows[-1][2]) - 1  # the oldest row's stream_ordering
        page = min(page * 2, 500)


def state_group_at(txn: Txn, room_id: str, position: int) -> tuple[bool, int | None]:
    """The state group after the room's last event at or before ``position``:
    ``(found, group)``; ``found`` is False when the room had no event by then."""
    row = txn.fetchone(
        "SELECT state_group_after FROM events WHERE room_id = ? AND stream_ordering <= ?"
        " AND outlier = 0 AND rejected_reason IS NULL ORDER BY stream_ordering DESC LIMIT 1",
        (room_id, position),
    )
    if row is None:
        return False, None
    return True, row[0]


def membership_at(txn: Txn, room_id: str, user_id: str, position: int) -> str | None:
    """The user's membership in the room after the events up to ``position``."""
    text = txn.fetchval(
        "SELECT json FROM events WHERE room_id = ? AND type = 'm.room.member'"
        " AND state_key = ? AND stream_ordering <= ? AND outlier = 0"
        " AND rejected_reason IS NULL ORDER BY stream_ordering DESC LIMIT 1",
        (room_id, user_id, position),
    )
    if text is None:
        return None
    content = orjson.loads(text).get("content")
    membership = content.get("membership") if isinstance(content, dict) else None
    return membership if isinstance(membership, str) else None


@dataclass(frozen=True, slots=True)
class Summary:
    heroes: list[str]
    joined: int
    invited: int


def room_summary(txn: Txn, room_id: str, user_id: str, heroes: int = 5) -> Summary:
    """spec: client-server ``GET /sync`` "RoomSummary" — member counts, and the first
    members (joined or invited, else left or banned) by stream order, not the user."""
    counts: dict[str, int] = dict(
        txn.fetchall(
            "SELECT membership, COUNT(*) FROM current_state WHERE room_id = ?"
            " AND type = 'm.room.member' GROUP BY membership",
            (room_id,),
        )
    )
    found: list[str] = []
    for memberships in (("join", "invite"), ("leave", "ban")):
        rows = txn.fetchall(
            "SELECT cs.state_key FROM current_state cs JOIN events e ON e.event_id = cs.event_id"
            " WHERE cs.room_id = ? AND cs.type = 'm.room.member' AND cs.state_key <> ?"
            f" AND cs.membership IN {txn.in_list(memberships)}"
            " ORDER BY e.stream_ordering LIMIT ?",
            [room_id, user_id, *memberships, heroes],
        )
        found = [row[0] for row in rows]
        if found:
            break
    return Summary(found, int(counts.get("join", 0)), int(counts.get("invite", 0)))


def rooms_with_events(txn: Txn, room_ids: Sequence[str], after: int, upto: int) -> set[str]:
    """Which of ``room_ids`` have an event with ``after < stream <= upto`` (used when
    a token is older than what the in-memory change cache remembers)."""
    found: set[str] = set()
    for chunk in in_chunks(room_ids):
        rows = txn.fetchall(
            "SELECT DISTINCT room_id FROM events WHERE stream_ordering > ?"
            f" AND stream_ordering <= ? AND room_id IN {txn.in_list(chunk)}",
            [after, upto, *chunk],
        )
        found.update(row[0] for row in rows)
    return found


def current_state_ids_for(
    txn: Txn, room_id: str, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """Current state event ids of ``room_id`` for just ``keys`` (stripped state)."""
    found: dict[tuple[str, str], str] = {}
    for typ, state_key in keys:
        event_id = txn.fetchval(
            "SELECT event_id FROM current_state WHERE room_id = ? AND type = ? AND state_key = ?",
            (room_id, typ, state_key),
        )
        if event_id is not None:
            found[(typ, state_key)] = str(event_id)
    return found


def state_entries_at(
    txn: Txn, group: int | None, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """Just ``keys`` of a state group (point lookups along its delta chain), for
    lazy-loaded members: never reads the whole membership of a big room."""
    if group is None or not keys:
        return {}
    chain: list[int] = []  # newest first
    current: int | None = group
    while current is not None and len(chain) <= 64:
        chain.append(current)
        current = txn.fetchval("SELECT prev_group FROM state_groups WHERE id = ?", (current,))
    by_type: dict[str, list[str]] = {}
    for typ, state_key in keys:
        by_type.setdefault(typ, []).append(state_key)
    found: dict[tuple[str, str], tuple[int, str]] = {}
    rank = {gid: index for index, gid in enumerate(chain)}
    for typ, state_keys in by_type.items():
        for chunk in in_chunks(state_keys):
            rows = txn.fetchall(
                "SELECT group_id, state_key, event_id FROM state_group_entries"
                f" WHERE group_id IN {txn.in_list(chain)} AND type = ?"
                f" AND state_key IN {txn.in_list(chunk)}",
                [*chain, typ, *chunk],
            )
            for gid, state_key, event_id in rows:
                key = (typ, state_key)
                known = found.get(key)
                if known is None or rank[gid] < known[0]:  # the newest group wins
                    found[key] = (rank[gid], event_id)
    return {key: event_id for key, (_, event_id) in found.items()}


def state_delta(
    txn: Txn, from_group: int | None, to_group: int | None, max_chain: int = 64
) -> dict[tuple[str, str], str] | None:
    """The entries ``to_group`` changed since ``from_group`` when the first is a
    descendant of the second in the delta chain (the usual case in a room whose
    state moved forward); None when it is not (the caller diffs full maps)."""
    if to_group is None:
        return None
    if to_group == from_group:
        return {}
    newer: list[int] = []  # groups after from_group, newest first
    current: int | None = to_group
    while current is not None and current != from_group and len(newer) < max_chain:
        newer.append(current)
        current = txn.fetchval("SELECT prev_group FROM state_groups WHERE id = ?", (current,))
    if current != from_group or from_group is None:
        return None
    rank = {gid: index for index, gid in enumerate(newer)}
    found: dict[tuple[str, str], tuple[int, str]] = {}
    for gid, typ, state_key, event_id in txn.fetchall(
        "SELECT group_id, type, state_key, event_id FROM state_group_entries"
        f" WHERE group_id IN {txn.in_list(newer)}",
        newer,
    ):
        key = (typ, state_key)
        known = found.get(key)
        if known is None or rank[gid] < known[0]:
            found[key] = (rank[gid], event_id)
    return {key: event_id for key, (_, event_id) in found.items()}
