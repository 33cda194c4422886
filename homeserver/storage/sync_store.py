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

from .database import IN_LIST_CHUNK, Row, Txn, in_chunks
from .events_store import _EVENT_COLUMNS, StoredEvent, _row_to_stored
from .state_store import StateGroupCache, group_chain

# How many rows one timeline may scan looking for events its filter accepts.
MAX_TIMELINE_SCAN = 2000


@dataclass(frozen=True, slots=True)
class Timeline:
    events: list[StoredEvent]  # oldest first
    limited: bool  # more accepted events exist in the window than were returned
    # Some event of the window is not in ``events`` (filtered out or over the limit),
    # so the state at the start of the timeline may differ from the state at its lower bound.
    skipped: bool


# Rooms with at most this many candidate heroes have theirs read together (all their
# candidates in one query); bigger rooms get a query each that stops at ``heroes`` rows.
SMALL_ROOM_MEMBERS = 50


@dataclass(frozen=True, slots=True)
class Window:
    """A room's timeline range: ``after < stream_ordering <= upto``."""

    room_id: str
    after: int | None
    upto: int


def _newest_sql(window: Window) -> tuple[str, list[Any]]:
    """The newest events of one window, newest first, as one indexed range scan
    (``events_room_stream``) that stops after ``LIMIT ?`` rows."""
    sql = (
        f"SELECT {_EVENT_COLUMNS} FROM events e JOIN rooms r ON r.room_id = e.room_id"
        " WHERE e.room_id = ? AND e.stream_ordering <= ?"
        " AND e.outlier = 0 AND e.rejected_reason IS NULL"
    )
    params: list[Any] = [window.room_id, window.upto]
    if window.after is not None:
        sql += " AND e.stream_ordering > ?"
        params.append(window.after)
    return sql + " ORDER BY e.stream_ordering DESC LIMIT ?", params


# "No lower bound" for a window's ``after`` in SQL (stream orderings are far above it).
_NO_LOWER = -(2**62)
# The batched read takes three statements: fewer windows than that are read one by one.
_BATCH_FROM = 3


def first_pages(txn: Txn, windows: Sequence[Window], page: int) -> dict[str, list[Row]]:
    """The first page (newest ``page`` rows, as ``recent_events`` reads them) of each
    window, for many rooms in three round trips whatever their number (a query per
    room for up to ``_BATCH_FROM`` rooms).

    Every room is read through ``events_room_stream`` ranges that stop after ``page``
    entries however big the room is (a window function over the rooms would read all
    their events): first, per room, the stream ordering of its ``page``-th newest event
    (a scalar ``LIMIT 1 OFFSET`` subquery); then the rows from there on, one plain
    index range per room. The branches leave out ``ORDER BY``/``LIMIT`` and the join
    with ``rooms``, which would make the statement many times slower to plan on
    PostgreSQL; room versions come in a small query of their own.
    """
    if len(windows) <= _BATCH_FROM:  # an incremental sync of a room or two
        pages: dict[str, list[Row]] = {}
        for window in windows:
            sql, params = _newest_sql(window)
            pages[window.room_id] = txn.fetchall(sql, [*params, page])
        return pages
    found: dict[str, list[Row]] = {w.room_id: [] for w in windows}
    columns = _EVENT_COLUMNS.replace("r.room_version", "NULL AS room_version")
    branch = (
        f"SELECT e.room_id, {columns} FROM events e WHERE e.room_id = ?"
        " AND e.stream_ordering >= ? AND e.stream_ordering <= ?"
        " AND e.outlier = 0 AND e.rejected_reason IS NULL"
    )
    for chunk in in_chunks(windows):
        values: list[Any] = []
        for window in chunk:
            after = _NO_LOWER if window.after is None else window.after
            values += [window.room_id, window.upto, after]
        low: dict[str, int] = dict(
            txn.fetchall(
                "SELECT v.column1, COALESCE(("
                " SELECT c.stream_ordering FROM events c WHERE c.room_id = v.column1"
                " AND c.stream_ordering <= v.column2 AND c.stream_ordering > v.column3"
                " AND c.outlier = 0 AND c.rejected_reason IS NULL"
                " ORDER BY c.stream_ordering DESC LIMIT 1 OFFSET ?), v.column3 + 1)"
                " FROM (VALUES " + ", ".join(["(?, ?, ?)"] * len(chunk)) + ") AS v",
                [page - 1, *values],
            )
        )
        ranges: list[Any] = []
        for window in chunk:
            ranges += [window.room_id, low[window.room_id], window.upto]
        for row in txn.fetchall(" UNION ALL ".join([branch] * len(chunk)), ranges):
            found[row[0]].append(row[1:])
    versions = _room_versions(txn, [w.room_id for w in windows if found[w.room_id]])
    for room_id, rows in found.items():
        version = versions.get(room_id)
        # Like the join with ``rooms`` would: no events of a room missing there.
        rows[:] = [] if version is None else [(*row[:8], version, *row[9:]) for row in rows]
        rows.sort(key=lambda row: row[2], reverse=True)  # stream_ordering, newest first
    return found


def _room_versions(txn: Txn, room_ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in in_chunks(room_ids):
        found.update(
            txn.fetchall(
                f"SELECT room_id, room_version FROM rooms WHERE room_id IN {txn.in_list(chunk)}",
                chunk,
            )
        )
    return found


def recent_events(
    txn: Txn,
    room_id: str,
    after: int | None,
    upto: int,
    limit: int,
    accept: Callable[[StoredEvent], bool],
    first_page: list[Row] | None = None,
) -> Timeline:
    """The newest ``limit`` events of a room with ``after < stream <= upto`` that
    ``accept`` takes, oldest first; reads backwards in pages of ``limit + 1`` rows
    (the first one may come from ``first_pages``)."""
    page = limit + 1
    collected: list[StoredEvent] = []
    skipped = False
    upper = upto
    scanned = 0
    while True:
        if first_page is not None:
            rows, first_page = first_page, None
        else:
            sql, params = _newest_sql(Window(room_id, after, upper))
            rows = txn.fetchall(sql, [*params, page])
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
        "SELECT COALESCE(state_group_current, state_group_after) FROM events"
        " WHERE room_id = ? AND stream_ordering <= ?"
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


def room_summaries(
    txn: Txn, room_ids: Sequence[str], user_id: str, heroes: int = 5
) -> dict[str, Summary]:
    """spec: client-server ``GET /sync`` "RoomSummary" — member counts, and the first
    members (joined or invited, else left or banned) by stream order, not the user;
    for many rooms in a few round trips."""
    counts: dict[str, dict[str, int]] = {room_id: {} for room_id in room_ids}
    for chunk in in_chunks(room_ids):
        for room_id, membership, count in txn.fetchall(
            "SELECT room_id, membership, COUNT(*) FROM current_state"
            f" WHERE room_id IN {txn.in_list(chunk)} AND type = 'm.room.member'"
            " GROUP BY room_id, membership",
            chunk,
        ):
            counts[room_id][membership] = int(count)
    found: dict[str, list[str]] = {room_id: [] for room_id in room_ids}
    for memberships in (("join", "invite"), ("leave", "ban")):
        # Rooms with no member of these memberships need no query at all.
        sizes = {
            room_id: sum(counts[room_id].get(m, 0) for m in memberships)
            for room_id, members in found.items()
            if not members
        }
        small = [room_id for room_id, size in sizes.items() if 0 < size <= SMALL_ROOM_MEMBERS]
        for chunk in in_chunks(small):
            rows = txn.fetchall(
                "SELECT cs.room_id, cs.state_key FROM current_state cs"
                " JOIN events e ON e.event_id = cs.event_id"
                f" WHERE cs.room_id IN {txn.in_list(chunk)} AND cs.type = 'm.room.member'"
                f" AND cs.state_key <> ? AND cs.membership IN {txn.in_list(memberships)}"
                " ORDER BY e.stream_ordering",
                [*chunk, user_id, *memberships],
            )
            for room_id, state_key in rows:
                if len(found[room_id]) < heroes:
                    found[room_id].append(state_key)
        for room_id, size in sizes.items():
            if size > SMALL_ROOM_MEMBERS:
                rows = txn.fetchall(
                    "SELECT cs.state_key FROM current_state cs"
                    " JOIN events e ON e.event_id = cs.event_id"
                    " WHERE cs.room_id = ? AND cs.type = 'm.room.member' AND cs.state_key <> ?"
                    f" AND cs.membership IN {txn.in_list(memberships)}"
                    " ORDER BY e.stream_ordering LIMIT ?",
                    [room_id, user_id, *memberships, heroes],
                )
                found[room_id] = [row[0] for row in rows]
    return {
        room_id: Summary(
            found[room_id],
            counts[room_id].get("join", 0),
            counts[room_id].get("invite", 0),
        )
        for room_id in room_ids
    }


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
    wanted = list(dict.fromkeys(keys))
    for start in range(0, len(wanted), IN_LIST_CHUNK // 2):
        chunk = wanted[start : start + IN_LIST_CHUNK // 2]
        # One statement for all the keys: each arm is a primary-key lookup.
        arms = " OR ".join(["(type = ? AND state_key = ?)"] * len(chunk))
        rows = txn.fetchall(
            f"SELECT type, state_key, event_id FROM current_state WHERE room_id = ? AND ({arms})",
            [room_id, *(part for key in chunk for part in key)],
        )
        found.update(((typ, state_key), str(event_id)) for typ, state_key, event_id in rows)
    return {key: found[key] for key in wanted if key in found}  # in the order asked


def state_entries_at(
    txn: Txn,
    group: int | None,
    keys: Sequence[tuple[str, str]],
    cache: StateGroupCache | None = None,
) -> dict[tuple[str, str], str]:
    """Just ``keys`` of a state group (from ``cache``, else point lookups along its
    delta chain), for lazy-loaded members: never reads the whole membership of a big
    room."""
    if group is None or not keys:
        return {}
    if cache is not None and (state := cache.get(group)) is not None:
        return {key: state[key] for key in keys if key in state}
    chain = group_chain(txn, group, 65)  # newest first
    if not chain:
        return {}
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
    chain = group_chain(txn, to_group, max_chain + 1)
    if from_group is None or from_group not in chain:
        return None
    newer = chain[: chain.index(from_group)]  # groups after from_group, newest first
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
