"""Events, their DAG edges, forward extremities and the room-events stream.

Every write here runs inside the one transaction the pipeline opens per event
(DESIGN.md "The write path", step 5).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import room_version

from .database import Database, Txn, in_chunks

_EVENT_COLUMNS = (
    "e.event_id, e.json, e.stream_ordering, e.rejected_reason, e.outlier, "
    "e.redacted_by, e.state_group_before, e.state_group_after, r.room_version, e.received_ts"
)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    event: Event
    stream_ordering: int
    rejected_reason: str | None
    outlier: bool
    redacted_by: str | None
    state_group_before: int | None
    state_group_after: int | None
    received_ts: int


@dataclass(frozen=True, slots=True)
class NewEventRow:
    """What the pipeline decided about an event, ready to be written."""

    event: Event
    stream_ordering: int
    received_ts: int
    state_group_before: int | None
    state_group_after: int | None
    rejected_reason: str | None = None
    outlier: int = 0  # 0 timeline, 1 outlier, 2 soft-failed
    rel_type: str | None = None
    relates_to: str | None = None
    # The room's current state group after this event, when not its own state.
    state_group_current: int | None = None


def _row_to_stored(row: Sequence[Any]) -> StoredEvent:
    (event_id, json_text, stream, rejected, outlier, redacted_by, sg_before, sg_after,
     version_id, received_ts) = row  # fmt: skip
    pdu = orjson.loads(json_text)
    event = Event(pdu, room_version(version_id), event_id=event_id, rejected=rejected is not None)
    return StoredEvent(
        event=event,
        stream_ordering=stream,
        rejected_reason=rejected,
        outlier=bool(outlier),
        redacted_by=redacted_by,
        state_group_before=sg_before,
        state_group_after=sg_after,
        received_ts=received_ts,
    )


def insert_event(txn: Txn, row: NewEventRow) -> None:
    event = row.event
    txn.execute(
        "INSERT INTO events (stream_ordering, event_id, room_id, type, state_key, sender, depth,"
        " origin_server_ts, received_ts, json, rejected_reason, outlier, state_group_before,"
        " state_group_after, rel_type, relates_to, state_group_current)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            row.stream_ordering,
            event.event_id,
            event.room_id,
            event.type,
            event.state_key,
            event.sender,
            event.depth,
            event.origin_server_ts,
            row.received_ts,
            orjson.dumps(event.pdu).decode("utf-8"),
            row.rejected_reason,
            int(row.outlier),
            row.state_group_before,
            row.state_group_after,
            row.rel_type,
            row.relates_to,
            row.state_group_current,
        ),
    )
    if event.prev_event_ids:
        txn.executemany(
            "INSERT INTO event_edges (event_id, prev_event_id) VALUES (?, ?)",
            [(event.event_id, prev) for prev in dict.fromkeys(event.prev_event_ids)],
        )
    if event.auth_event_ids:
        txn.executemany(
            "INSERT INTO event_auth (event_id, auth_id) VALUES (?, ?)",
            [(event.event_id, auth) for auth in dict.fromkeys(event.auth_event_ids)],
        )


def set_forward_extremities(txn: Txn, room_id: str, event_ids: Iterable[str]) -> None:
    txn.execute("DELETE FROM forward_extremities WHERE room_id = ?", (room_id,))
    txn.executemany(
        "INSERT INTO forward_extremities (room_id, event_id) VALUES (?, ?)",
        [(room_id, event_id) for event_id in event_ids],
    )


def deoutlier_event(txn: Txn, row: NewEventRow) -> None:
    """An event held as an outlier gets the place ``row`` gives it (its edges are
    stored already)."""
    txn.execute(
        "UPDATE events SET stream_ordering = ?, received_ts = ?, rejected_reason = ?,"
        " outlier = ?, state_group_before = ?, state_group_after = ?, rel_type = ?,"
        " relates_to = ?, state_group_current = ? WHERE event_id = ?",
        (
            row.stream_ordering,
            row.received_ts,
            row.rejected_reason,
            int(row.outlier),
            row.state_group_before,
            row.state_group_after,
            row.rel_type,
            row.relates_to,
            row.state_group_current,
            row.event.event_id,
        ),
    )


def add_backward_extremities(txn: Txn, room_id: str, event_ids: Iterable[str]) -> None:
    """Record events we lack that held events point at: backfill starts there."""
    txn.executemany(
        "INSERT INTO backward_extremities (room_id, event_id) VALUES (?, ?)"
        " ON CONFLICT (room_id, event_id) DO NOTHING",
        [(room_id, event_id) for event_id in event_ids],
    )


def resolve_backward_extremity(txn: Txn, room_id: str, event_id: str) -> None:
    """``event_id`` is held now: it is no longer a gap."""
    txn.execute(
        "DELETE FROM backward_extremities WHERE room_id = ? AND event_id = ?", (room_id, event_id)
    )


def closest_by_ts(txn: Txn, room_id: str, ts: int, backwards: bool) -> tuple[str, int] | None:
    """``(event_id, origin_server_ts)`` of the room's timeline event closest to ``ts``:
    at or before it (``backwards``), else at or after it."""
    if backwards:
        where, order = "origin_server_ts <= ?", "origin_server_ts DESC, stream_ordering DESC"
    else:
        where, order = "origin_server_ts >= ?", "origin_server_ts ASC, stream_ordering ASC"
    row = txn.fetchone(
        f"SELECT event_id, origin_server_ts FROM events WHERE room_id = ? AND {where}"
        f" AND outlier = 0 AND rejected_reason IS NULL ORDER BY {order} LIMIT 1",
        (room_id, ts),
    )
    return None if row is None else (row[0], int(row[1]))


def children_of(txn: Txn, event_id: str) -> list[str]:
    """The events that name ``event_id`` among their prev events."""
    rows = txn.fetchall("SELECT event_id FROM event_edges WHERE prev_event_id = ?", (event_id,))
    return [row[0] for row in rows]


def get_backward_extremities(txn: Txn, room_id: str) -> list[str]:
    rows = txn.fetchall("SELECT event_id FROM backward_extremities WHERE room_id = ?", (room_id,))
    return [row[0] for row in rows]


def get_forward_extremities(txn: Txn, room_id: str) -> list[str]:
    rows = txn.fetchall("SELECT event_id FROM forward_extremities WHERE room_id = ?", (room_id,))
    return [row[0] for row in rows]


def max_stream_ordering(txn: Txn) -> int:
    return int(txn.fetchval("SELECT MAX(stream_ordering) FROM events") or 0)


def min_stream_ordering(txn: Txn) -> int:
    return int(txn.fetchval("SELECT MIN(stream_ordering) FROM events") or 0)


def get_events(txn: Txn, event_ids: Sequence[str]) -> dict[str, StoredEvent]:
    found: dict[str, StoredEvent] = {}
    for chunk in in_chunks(event_ids):
        rows = txn.fetchall(
            f"SELECT {_EVENT_COLUMNS} FROM events e JOIN rooms r ON r.room_id = e.room_id"
            f" WHERE e.event_id IN {txn.in_list(chunk)}",
            chunk,
        )
        for row in rows:
            stored = _row_to_stored(row)
            found[stored.event.event_id] = stored
    return found


def room_events_between(
    txn: Txn, room_id: str, after: int, upto: int, limit: int
) -> list[StoredEvent]:
    """The newest ``limit`` events of a room with ``after < stream <= upto``, oldest first."""
    rows = txn.fetchall(
        f"SELECT {_EVENT_COLUMNS} FROM events e JOIN rooms r ON r.room_id = e.room_id"
        " WHERE e.room_id = ? AND e.stream_ordering > ? AND e.stream_ordering <= ?"
        " AND e.outlier = 0 AND e.rejected_reason IS NULL"
        " ORDER BY e.stream_ordering DESC LIMIT ?",
        (room_id, after, upto, limit),
    )
    return [_row_to_stored(row) for row in reversed(rows)]


def paginate_room(
    txn: Txn,
    room_id: str,
    from_topo: tuple[int, int],
    backwards: bool,
    limit: int,
    to_topo: tuple[int, int] | None = None,
) -> list[StoredEvent]:
    """Events in topological order (depth, stream) from the gap ``from_topo``.

    Tokens name gaps between events (homeserver.sync.tokens.TopoToken): backwards
    returns the events strictly before the gap, newest first; forwards the events at
    or after it, oldest first (spec: client-server "GET /rooms/{roomId}/messages" —
    chunk order follows ``dir``). ``to_topo`` is a gap the page stops at.
    """
    # Row-value comparisons, so that both engines read ``events_room_topo`` as one range
    # from the gap on and stop at the LIMIT (an OR of depth conditions made PostgreSQL
    # read and sort every event before the gap); the plain depth bound helps SQLite.
    depth, stream = from_topo
    if backwards:
        where = "e.depth <= ? AND (e.depth, e.stream_ordering) < (?, ?)"
        order = "e.depth DESC, e.stream_ordering DESC"
    else:
        where = "e.depth >= ? AND (e.depth, e.stream_ordering) >= (?, ?)"
        order = "e.depth ASC, e.stream_ordering ASC"
    params: list[Any] = [room_id, depth, depth, stream]
    bound = ""
    if to_topo is not None:
        to_depth, to_stream = to_topo
        if backwards:
            bound = " AND e.depth >= ? AND (e.depth, e.stream_ordering) >= (?, ?)"
        else:
            bound = " AND e.depth <= ? AND (e.depth, e.stream_ordering) < (?, ?)"
        params += [to_depth, to_depth, to_stream]
    # The room version once (a scalar subquery), not a join per row read.
    columns = _EVENT_COLUMNS.replace(
        "r.room_version", "(SELECT r.room_version FROM rooms r WHERE r.room_id = e.room_id)"
    )
    sql = (
        f"SELECT {columns} FROM events e"
        f" WHERE e.room_id = ? AND {where}{bound}"
        " AND e.outlier = 0 AND e.rejected_reason IS NULL"
    )
    # First within a depth span of twice the page: a planner that sorts what the range
    # holds (as PostgreSQL does without table statistics) sorts that span, not the
    # room's history. ``limit`` rows from it are the page (any event past the span
    # comes after all of them); fewer, and the unbounded read decides.
    span = 2 * limit
    near = " AND e.depth > ?" if backwards else " AND e.depth < ?"
    near_params = [*params, depth - span if backwards else depth + span, limit]
    rows = txn.fetchall(f"{sql}{near} ORDER BY {order} LIMIT ?", near_params)
    if len(rows) < limit:
        rows = txn.fetchall(f"{sql} ORDER BY {order} LIMIT ?", [*params, limit])
    return [_row_to_stored(row) for row in rows]


def mark_redacted(txn: Txn, event_id: str, redaction_id: str, redacted_pdu: dict[str, Any]) -> None:
    """Replace an event's JSON by its redacted form (we do not keep redacted content)."""
    txn.execute(
        "UPDATE events SET json = ?, redacted_by = ? WHERE event_id = ?",
        (orjson.dumps(redacted_pdu).decode("utf-8"), redaction_id, event_id),
    )


class EventsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get_events(self, event_ids: Sequence[str]) -> dict[str, StoredEvent]:
        if not event_ids:
            return {}
        return await self.db.read(get_events, event_ids)

    async def get_event(self, event_id: str) -> StoredEvent | None:
        return (await self.get_events([event_id])).get(event_id)

    async def get_forward_extremities(self, room_id: str) -> list[str]:
        return await self.db.read(get_forward_extremities, room_id)

    async def min_stream_ordering(self) -> int:
        return await self.db.read(min_stream_ordering)

    async def closest_by_ts(self, room_id: str, ts: int, backwards: bool) -> tuple[str, int] | None:
        return await self.db.read(closest_by_ts, room_id, ts, backwards)

    async def children_of(self, event_id: str) -> list[str]:
        return await self.db.read(children_of, event_id)

    async def get_backward_extremities(self, room_id: str) -> list[str]:
        return await self.db.read(get_backward_extremities, room_id)

    async def max_stream_ordering(self) -> int:
        return await self.db.read(max_stream_ordering)

    async def room_events_between(
        self, room_id: str, after: int, upto: int, limit: int
    ) -> list[StoredEvent]:
        return await self.db.read(room_events_between, room_id, after, upto, limit)

    async def paginate_room(
        self,
        room_id: str,
        from_topo: tuple[int, int],
        backwards: bool,
        limit: int,
        to_topo: tuple[int, int] | None = None,
    ) -> list[StoredEvent]:
        return await self.db.read(paginate_room, room_id, from_topo, backwards, limit, to_topo)
