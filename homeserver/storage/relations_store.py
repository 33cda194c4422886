"""The relations index: child events by parent, and one summary row per thread.

spec: client-server "Forming relationships between events". The pipeline writes the
index inside each event's persist transaction (``index_event``; ``forget_event``
when a redaction breaks a relationship), so it never lags the events. Reads serve
``/relations``, ``/threads`` and the bundled aggregations (``bundle_rows``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from homeserver.protocol import relations as rel
from homeserver.protocol.events import Event

from .database import Database, Txn, in_chunks
from .events_store import _EVENT_COLUMNS, StoredEvent, _row_to_stored

Pos = tuple[int, int]


class RelationRooms:
    """The rooms holding at least one indexed relation.

    Bundling aggregations for a page of events from other rooms costs no query at
    all. Loaded on first use (from whichever thread, under a lock); the writer adds
    a room inside the transaction that indexes its first relation, before the commit,
    so a reader can never see the relation without the room.
    """

    def __init__(self) -> None:
        self._rooms: set[str] | None = None
        self._lock = threading.Lock()

    def _loaded(self, txn: Txn) -> set[str]:
        rooms = self._rooms
        if rooms is None:
            with self._lock:
                rooms = self._rooms
                if rooms is None:
                    # One index probe per room, not a scan of every relation.
                    rows = txn.fetchall(
                        "SELECT r.room_id FROM rooms r WHERE EXISTS"
                        " (SELECT 1 FROM event_relations x WHERE x.room_id = r.room_id)"
                    )
                    rooms = self._rooms = {row[0] for row in rows}
        return rooms

    def among(self, txn: Txn, room_ids: Iterable[str]) -> set[str]:
        rooms = self._loaded(txn)
        return {room_id for room_id in room_ids if room_id in rooms}

    def add(self, txn: Txn, room_id: str) -> None:
        rooms = self._loaded(txn)
        if room_id not in rooms:
            with self._lock:
                rooms.add(room_id)


# ---------------------------------------------------------------------- writes


def parent_facts(txn: Txn, event_id: str) -> rel.RelatedEvent | None:
    """What the relation rules need about a stored event (None: we do not have it)."""
    row = txn.fetchone(
        "SELECT room_id, sender, type, state_key, rel_type FROM events"
        " WHERE event_id = ? AND outlier = 0 AND rejected_reason IS NULL",
        (event_id,),
    )
    if row is None:
        return None
    room_id, sender, typ, state_key, rel_type = row
    return rel.RelatedEvent(room_id, sender, typ, state_key is not None, rel_type)


def _facts(event: Event) -> rel.RelatedEvent:
    return rel.RelatedEvent(
        event.room_id, event.sender, event.type, event.is_state, rel.own_rel_type(event.content)
    )


def index_event(txn: Txn, event: Event, stream: int, rooms: RelationRooms | None) -> bool:
    """Index ``event`` as a child if its relation is valid; True when indexed.

    A parent we do not hold yet (over federation, children may arrive first) is
    checked when it arrives (``recheck_children``).
    """
    relation = rel.relation_of(event.content)
    if relation is None or not rel.child_valid(relation, event.type, event.is_state, event.content):
        return False
    parent = parent_facts(txn, relation.parent_id)
    if parent is not None and not rel.valid_with_parent(relation, _facts(event), parent):
        return False
    txn.execute(
        "INSERT INTO event_relations (event_id, room_id, relates_to_id, rel_type,"
        " aggregation_key, sender, type, origin_server_ts, depth, stream_ordering)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
        (
            event.event_id,
            event.room_id,
            relation.parent_id,
            relation.rel_type,
            relation.key,
            event.sender,
            event.type,
            event.origin_server_ts,
            event.depth,
            stream,
        ),
    )
    if relation.rel_type == rel.THREAD:
        # The latest event of a thread is its topologically newest child.
        txn.execute(
            "INSERT INTO threads (room_id, thread_id, latest_event_id, latest_depth,"
            " latest_stream) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (thread_id, room_id) DO UPDATE SET"
            " latest_event_id = excluded.latest_event_id,"
            " latest_depth = excluded.latest_depth, latest_stream = excluded.latest_stream"
            " WHERE (excluded.latest_depth, excluded.latest_stream)"
            " > (threads.latest_depth, threads.latest_stream)",
            (event.room_id, relation.parent_id, event.event_id, event.depth, stream),
        )
    if rooms is not None:
        rooms.add(txn, event.room_id)
    return True


def forget_event(txn: Txn, event_id: str) -> None:
    """Drop a child from the index (it was redacted: the relationship is broken).

    spec: "Aggregations of child events" — "when a child event is redacted then the
    relationship is broken"; a thread's latest event moves back to the newest child
    left, and a thread without children is no thread.
    """
    row = txn.fetchone(
        "SELECT room_id, relates_to_id, rel_type FROM event_relations WHERE event_id = ?",
        (event_id,),
    )
    if row is None:
        return
    room_id, parent_id, rel_type = row
    txn.execute("DELETE FROM event_relations WHERE event_id = ?", (event_id,))
    if rel_type == rel.THREAD:
        _refresh_thread(txn, room_id, parent_id)


def _refresh_thread(txn: Txn, room_id: str, thread_id: str) -> None:
    latest = txn.fetchone(
        "SELECT event_id, depth, stream_ordering FROM event_relations"
        " WHERE relates_to_id = ? AND rel_type = ? AND room_id = ?"
        " ORDER BY depth DESC, stream_ordering DESC LIMIT 1",
        (thread_id, rel.THREAD, room_id),
    )
    if latest is None:
        txn.execute("DELETE FROM threads WHERE room_id = ? AND thread_id = ?", (room_id, thread_id))
    else:
        txn.execute(
            "UPDATE threads SET latest_event_id = ?, latest_depth = ?, latest_stream = ?"
            " WHERE room_id = ? AND thread_id = ?",
            (*latest, room_id, thread_id),
        )


def recheck_children(txn: Txn, parent: Event) -> None:
    """Drop children indexed before their parent arrived that break its rules."""
    rows = txn.fetchall(
        "SELECT event_id, room_id, rel_type, aggregation_key, sender, type"
        " FROM event_relations WHERE relates_to_id = ?",
        (parent.event_id,),
    )
    facts = _facts(parent)
    for event_id, room_id, rel_type, key, sender, typ in rows:
        relation = rel.Relation(rel_type, parent.event_id, key)
        # Indexed children are never state events (edits) or were allowed as such.
        child = rel.RelatedEvent(room_id, sender, typ, False, rel_type)
        if not rel.valid_with_parent(relation, child, facts):
            forget_event(txn, event_id)


# ---------------------------------------------------------------------- reads


def has_relations(txn: Txn, parent_id: str) -> bool:
    """Whether any indexed event relates to ``parent_id``."""
    row = txn.fetchone(
        "SELECT 1 FROM event_relations WHERE relates_to_id = ? LIMIT 1", (parent_id,)
    )
    return row is not None


def has_annotation(txn: Txn, parent_id: str, sender: str, event_type: str, key: str) -> bool:
    """Whether ``sender`` already annotated ``parent_id`` with this type and key."""
    row = txn.fetchone(
        "SELECT 1 FROM event_relations WHERE relates_to_id = ? AND rel_type = ?"
        " AND sender = ? AND type = ? AND aggregation_key = ? LIMIT 1",
        (parent_id, rel.ANNOTATION, sender, event_type, key),
    )
    return row is not None


def annotation_pairs(
    txn: Txn, room_id: str, parent_id: str, event_type: str | None
) -> list[tuple[str, str]]:
    """``(key, sender)`` of a parent's annotations, oldest first."""
    sql = (
        "SELECT aggregation_key, sender FROM event_relations"
        " WHERE relates_to_id = ? AND rel_type = ? AND room_id = ?"
    )
    params: list[Any] = [parent_id, rel.ANNOTATION, room_id]
    if event_type is not None:
        sql += " AND type = ?"
        params.append(event_type)
    rows = txn.fetchall(sql + " ORDER BY depth, stream_ordering", params)
    return [(row[0], row[1]) for row in rows]


# spec: "Relationships API" — "Homeservers SHOULD traverse at least 3 levels".
RECURSION_DEPTH = 3


def children_page(
    txn: Txn,
    room_id: str,
    parent_id: str,
    start: Pos,
    *,
    backwards: bool,
    limit: int,
    to: Pos | None = None,
    rel_type: str | None = None,
    event_type: str | None = None,
    recurse: bool = False,
) -> list[StoredEvent]:
    """Children of ``parent_id`` in topological order from the gap ``start``.

    Gaps are as in ``events_store.paginate_room``: backwards gives the children
    before the gap, newest first; forwards those at or after it, oldest first. With
    ``recurse``, children of children too, up to ``RECURSION_DEPTH`` levels, the
    filters applying at every level (spec: "Relationships API").
    """
    filters = ""
    filter_params: list[Any] = []
    if rel_type is not None:
        filters += " AND x.rel_type = ?"
        filter_params.append(rel_type)
    if event_type is not None:
        filters += " AND x.type = ?"
        filter_params.append(event_type)
    depth, stream = start
    if backwards:
        where = " AND (x.depth, x.stream_ordering) < (?, ?)"
        order = "x.depth DESC, x.stream_ordering DESC"
    else:
        where = " AND (x.depth, x.stream_ordering) >= (?, ?)"
        order = "x.depth ASC, x.stream_ordering ASC"
    where_params: list[Any] = [depth, stream]
    if to is not None:
        where += (
            " AND (x.depth, x.stream_ordering) >= (?, ?)"
            if backwards
            else " AND (x.depth, x.stream_ordering) < (?, ?)"
        )
        where_params += list(to)
    columns = f"{_EVENT_COLUMNS} FROM event_relations x JOIN events e ON e.event_id = x.event_id"
    columns += " JOIN rooms r ON r.room_id = e.room_id"
    if not recurse:
        sql = (
            f"SELECT {columns} WHERE x.relates_to_id = ? AND x.room_id = ?{filters}{where}"
            f" ORDER BY {order} LIMIT ?"
        )
        params = [parent_id, room_id, *filter_params, *where_params, limit]
    else:
        # Each level's children, found by parent id; a cycle (ids are chosen by the
        # sending server in old room versions) ends at the depth bound.
        sql = (
            "WITH RECURSIVE related (event_id, lvl) AS ("
            f" SELECT x.event_id, 1 FROM event_relations x"
            f" WHERE x.relates_to_id = ? AND x.room_id = ?{filters}"
            " UNION"
            " SELECT x.event_id, related.lvl + 1 FROM event_relations x"
            " JOIN related ON x.relates_to_id = related.event_id"
            f" WHERE related.lvl < ? AND x.room_id = ?{filters})"
            f" SELECT {_EVENT_COLUMNS} FROM (SELECT DISTINCT event_id FROM related) d"
            " JOIN event_relations x ON x.event_id = d.event_id"
            " JOIN events e ON e.event_id = x.event_id JOIN rooms r ON r.room_id = e.room_id"
            f" WHERE x.room_id = ?{where} ORDER BY {order} LIMIT ?"
        )
        params = [
            parent_id,
            room_id,
            *filter_params,
            RECURSION_DEPTH,
            room_id,
            *filter_params,
            room_id,
            *where_params,
            limit,
        ]
    rows = txn.fetchall(sql, params)
    return [_row_to_stored(row) for row in rows]


@dataclass(frozen=True, slots=True)
class ThreadRow:
    thread_id: str
    latest_event_id: str
    latest: Pos


def threads_page(
    txn: Txn, room_id: str, before: Pos | None, limit: int, participant: str | None
) -> list[ThreadRow]:
    """A room's threads, latest activity first, whose latest event is before ``before``.

    With ``participant``, only the threads whose root that user sent or in which
    they sent a threaded reply (spec: "Server-side aggregation of m.thread
    relationships", ``current_user_participated``).
    """
    sql = (
        "SELECT t.thread_id, t.latest_event_id, t.latest_depth, t.latest_stream"
        " FROM threads t WHERE t.room_id = ?"
    )
    params: list[Any] = [room_id]
    if before is not None:
        sql += " AND (t.latest_depth, t.latest_stream) < (?, ?)"
        params += list(before)
    if participant is not None:
        sql += (
            " AND (EXISTS (SELECT 1 FROM events e WHERE e.event_id = t.thread_id"
            " AND e.sender = ?) OR EXISTS (SELECT 1 FROM event_relations c"
            " WHERE c.relates_to_id = t.thread_id AND c.rel_type = ? AND c.sender = ?))"
        )
        params += [participant, rel.THREAD, participant]
    sql += " ORDER BY t.latest_depth DESC, t.latest_stream DESC LIMIT ?"
    params.append(limit)
    return [ThreadRow(row[0], row[1], (row[2], row[3])) for row in txn.fetchall(sql, params)]


@dataclass(frozen=True, slots=True)
class ChildRow:
    """An edit or a reference of a parent, for bundling."""

    event_id: str
    room_id: str
    sender: str
    type: str
    origin_server_ts: int


@dataclass(frozen=True, slots=True)
class ThreadSummaryRow:
    room_id: str
    latest_event_id: str
    count: int
    # The viewer sent a threaded reply (whether they sent the root is the caller's).
    replied: bool


@dataclass
class BundleRows:
    edits: dict[str, list[ChildRow]]
    references: dict[str, list[ChildRow]]
    threads: dict[str, ThreadSummaryRow]


def bundle_rows(
    txn: Txn, parent_ids: Sequence[str], user_id: str, *, threads: bool = True
) -> BundleRows:
    """The edits, references and thread summaries of many parents: one statement per
    ``IN`` chunk (children in stream order)."""
    out = BundleRows({}, {}, {})
    for chunk in in_chunks(parent_ids):
        in_list = txn.in_list(chunk)
        sql = (
            "SELECT relates_to_id, rel_type, event_id, room_id, sender, type,"
            " origin_server_ts, stream_ordering, 0, 0 FROM event_relations"
            f" WHERE relates_to_id IN {in_list} AND rel_type IN (?, ?)"
        )
        params: list[Any] = [*chunk, rel.REPLACE, rel.REFERENCE]
        if threads:
            sql += (
                " UNION ALL SELECT t.thread_id, ?, t.latest_event_id, t.room_id, NULL, NULL,"
                " 0, 0, (SELECT COUNT(*) FROM event_relations c WHERE"
                " c.relates_to_id = t.thread_id AND c.rel_type = ? AND c.room_id = t.room_id),"
                " (SELECT COUNT(*) FROM event_relations c WHERE c.relates_to_id = t.thread_id"
                " AND c.rel_type = ? AND c.room_id = t.room_id AND c.sender = ?)"
                f" FROM threads t WHERE t.thread_id IN {in_list}"
            )
            params += [rel.THREAD, rel.THREAD, rel.THREAD, user_id, *chunk]
        rows = txn.fetchall(sql, params)
        rows.sort(key=lambda row: row[7])
        for parent, rel_type, event_id, room_id, sender, typ, ts, _, count, mine in rows:
            if rel_type == rel.THREAD:
                out.threads[parent] = ThreadSummaryRow(room_id, event_id, int(count), mine > 0)
                continue
            target = out.edits if rel_type == rel.REPLACE else out.references
            target.setdefault(parent, []).append(ChildRow(event_id, room_id, sender, typ, ts))
    return out


class RelationsStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.rooms = RelationRooms()

    async def has_relations(self, parent_id: str) -> bool:
        return await self.db.read(has_relations, parent_id)

    async def has_annotation(self, parent_id: str, sender: str, event_type: str, key: str) -> bool:
        return await self.db.read(has_annotation, parent_id, sender, event_type, key)

    async def annotations(
        self, room_id: str, parent_id: str, event_type: str | None
    ) -> list[tuple[str, str]]:
        return await self.db.read(annotation_pairs, room_id, parent_id, event_type)
