"""Queries behind the client room read endpoints: state history, state at groups,
transaction ids of responses, local memberships and profiles.

Plain functions of a ``Txn``; handlers run them with ``store.db.read(fn, ...)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from .database import Txn, in_chunks
from .events_store import _EVENT_COLUMNS, StoredEvent, _row_to_stored
from .state_store import StateGroupCache

StateKey = tuple[str, str]
Pos = tuple[int, int]


def state_history(txn: Txn, room_id: str, event_type: str, state_key: str) -> list[StoredEvent]:
    """Every accepted event of a room for one state key, in (depth, stream) order."""
    rows = txn.fetchall(
        f"SELECT {_EVENT_COLUMNS} FROM events e JOIN rooms r ON r.room_id = e.room_id"
        " WHERE e.room_id = ? AND e.type = ? AND e.state_key = ?"
        " AND e.outlier = 0 AND e.rejected_reason IS NULL"
        " ORDER BY e.depth, e.stream_ordering",
        (room_id, event_type, state_key),
    )
    return [_row_to_stored(row) for row in rows]


def state_histories(
    txn: Txn, room_ids: Sequence[str], keys: Sequence[StateKey]
) -> dict[tuple[str, StateKey], list[StoredEvent]]:
    """``state_history`` of each of ``keys`` in each room (each in (depth, stream)
    order), in one statement per ``IN`` chunk: a UNION ALL with a branch per key on
    the ``events_room_state_key`` index."""
    found: dict[tuple[str, StateKey], list[StoredEvent]] = {
        (room_id, key): [] for room_id in room_ids for key in keys
    }
    for chunk in in_chunks(room_ids):
        branch = (
            f"SELECT {_EVENT_COLUMNS}, e.depth FROM events e"
            " JOIN rooms r ON r.room_id = e.room_id"
            f" WHERE e.room_id IN {txn.in_list(chunk)} AND e.type = ? AND e.state_key = ?"
            " AND e.outlier = 0 AND e.rejected_reason IS NULL"
        )
        params: list[Any] = []
        for typ, state_key in keys:
            params += [*chunk, typ, state_key]
        rows = txn.fetchall(" UNION ALL ".join([branch] * len(keys)), params)
        rows.sort(key=lambda row: (row[-1], row[2]))  # (depth, stream_ordering)
        for row in rows:
            stored = _row_to_stored(row[:-1])
            event = stored.event
            found[(event.room_id, (event.type, event.state_key or ""))].append(stored)
    return found


def state_at_groups(
    txn: Txn,
    group_ids: Iterable[int],
    keys: Sequence[StateKey],
    cache: StateGroupCache | None = None,
) -> dict[int, dict[StateKey, str]]:
    """For each state group, the event ids it holds for ``keys``.

    Groups in ``cache`` are answered from it. The others are deltas over
    ``prev_group``: walk the chains level by level, one query per level for all
    groups at once, and resolve each group from its own entries overlaid on its
    predecessor's.
    """
    wanted = set(keys)
    group_ids = [g for g in group_ids if g is not None]
    cached: dict[int, dict[StateKey, str]] = {}
    if cache is not None:
        for gid in group_ids:
            state = cache.get(gid)
            if state is not None:
                cached[gid] = {key: state[key] for key in wanted if key in state}
    entries: dict[int, dict[StateKey, str]] = {}
    prev: dict[int, int | None] = {}
    frontier = {g for g in group_ids if g not in cached}
    while frontier:
        ids = sorted(frontier)
        for row in txn.fetchall(
            f"SELECT id, prev_group FROM state_groups WHERE id IN {txn.in_list(ids)}", ids
        ):
            prev[row[0]] = row[1]
        for gid in ids:
            prev.setdefault(gid, None)
            entries.setdefault(gid, {})
        types = sorted({k[0] for k in wanted})
        if types:
            rows = txn.fetchall(
                "SELECT group_id, type, state_key, event_id FROM state_group_entries"
                f" WHERE group_id IN {txn.in_list(ids)} AND type IN {txn.in_list(types)}",
                [*ids, *types],
            )
            for gid, typ, skey, event_id in rows:
                if (typ, skey) in wanted:
                    entries[gid][(typ, skey)] = event_id
        frontier = {p for g in ids if (p := prev[g]) is not None and p not in prev}

    resolved: dict[int, dict[StateKey, str]] = {}

    def resolve(gid: int) -> dict[StateKey, str]:
        chain: list[int] = []
        current: int | None = gid
        while current is not None and current not in resolved:
            chain.append(current)
            current = prev.get(current)
        base = resolved[current] if current is not None else {}
        for item in reversed(chain):
            base = {**base, **entries.get(item, {})}
            resolved[item] = base
        return resolved[gid]

    return {gid: cached[gid] if gid in cached else resolve(gid) for gid in group_ids}


def txn_ids_for(txn: Txn, user_id: str, device_id: str, event_ids: Sequence[str]) -> dict[str, str]:
    """event id -> the client transaction id the device sent it with (spec:
    ``unsigned.transaction_id``)."""
    found: dict[str, str] = {}
    for chunk in in_chunks(event_ids):
        # Looked up by event id (``txn_ids_event``), the device filtered here: with
        # ``user_id = ? AND device_id = ?`` in the WHERE clause a planner may take the
        # primary key instead and read every transaction id the device ever sent.
        rows = txn.fetchall(
            "SELECT event_id, txn_id, user_id, device_id FROM txn_ids"
            f" WHERE event_id IN {txn.in_list(chunk)}",
            chunk,
        )
        found.update(
            (event_id, txn_id)
            for event_id, txn_id, user, device in rows
            if user == user_id and device == device_id
        )
    return found


def topo_position(txn: Txn, event_id: str) -> tuple[str, Pos] | None:
    """``(room_id, (depth, stream))`` of an accepted, non-outlier event."""
    row = txn.fetchone(
        "SELECT room_id, depth, stream_ordering FROM events WHERE event_id = ?"
        " AND outlier = 0 AND rejected_reason IS NULL",
        (event_id,),
    )
    return None if row is None else (row[0], (row[1], row[2]))


def last_event_upto_stream(txn: Txn, room_id: str, stream: int) -> Pos | None:
    """(depth, stream) of the newest room event with stream_ordering <= ``stream``."""
    row = txn.fetchone(
        "SELECT depth, stream_ordering FROM events WHERE room_id = ? AND stream_ordering <= ?"
        " AND outlier = 0 AND rejected_reason IS NULL"
        " ORDER BY stream_ordering DESC LIMIT 1",
        (room_id, stream),
    )
    return None if row is None else (row[0], row[1])


def last_event_before(txn: Txn, room_id: str, gap: Pos) -> tuple[str, int | None] | None:
    """(event id, state_group_after) of the last event before a topological gap."""
    depth, stream = gap
    row = txn.fetchone(
        "SELECT event_id, state_group_after FROM events WHERE room_id = ?"
        " AND (depth < ? OR (depth = ? AND stream_ordering < ?))"
        " AND outlier = 0 AND rejected_reason IS NULL"
        " ORDER BY depth DESC, stream_ordering DESC LIMIT 1",
        (room_id, depth, depth, stream),
    )
    return None if row is None else (row[0], row[1])


def room_end(txn: Txn, room_id: str) -> Pos | None:
    """(depth, stream) of the topologically newest event of a room."""
    row = txn.fetchone(
        "SELECT depth, stream_ordering FROM events WHERE room_id = ?"
        " AND outlier = 0 AND rejected_reason IS NULL"
        " ORDER BY depth DESC, stream_ordering DESC LIMIT 1",
        (room_id,),
    )
    return None if row is None else (row[0], row[1])


def local_membership(txn: Txn, user_id: str, room_id: str) -> tuple[str, str, bool] | None:
    """(membership, event_id, forgotten) of a local user in a room."""
    row = txn.fetchone(
        "SELECT membership, event_id, forgotten FROM local_memberships"
        " WHERE user_id = ? AND room_id = ?",
        (user_id, room_id),
    )
    return None if row is None else (row[0], row[1], bool(row[2]))


def forget_room(txn: Txn, user_id: str, room_id: str) -> None:
    txn.execute(
        "UPDATE local_memberships SET forgotten = 1 WHERE user_id = ? AND room_id = ?",
        (user_id, room_id),
    )


def joined_rooms(txn: Txn, user_id: str) -> list[str]:
    rows = txn.fetchall(
        "SELECT room_id FROM local_memberships WHERE user_id = ? AND membership = 'join'"
        " AND forgotten = 0 ORDER BY room_id",
        (user_id,),
    )
    return [row[0] for row in rows]


def profile(txn: Txn, user_id: str) -> dict[str, Any]:
    """``displayname`` and ``avatar_url`` of a local user (absent when unset)."""
    rows = txn.fetchall(
        "SELECT field, value FROM profiles WHERE user_id = ?"
        " AND field IN ('displayname', 'avatar_url')",
        (user_id,),
    )
    out: dict[str, Any] = {}
    for field, value in rows:
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            continue
        if isinstance(parsed, str):
            out[field] = parsed
    return out
