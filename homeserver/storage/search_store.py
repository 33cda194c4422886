"""The full-text index of searchable events, and searching it for one user.

spec: client-server "Server Side Search". The index (migration ``0010_search``) is an
FTS5 table on SQLite (rowid = the event's stream_ordering, ranked with ``bm25``) and
a ``tsvector`` table with a GIN index on PostgreSQL (ranked with ``ts_rank``); the two
are the only SQL in the server that differs by dialect. Rows hold the normalised words
of ``homeserver.rooms.search_text`` and are written in the pipeline's persist
transaction (``index_event``), deleted when a redaction applies (``unindex_event``).

Which events a user searches: those of rooms they are joined to, and of rooms they
left (or were kicked or banned from) and did not forget, up to their leave; never
rooms they are only invited to or knocking on, never end-to-end encrypted rooms
(spec: "The search will *not* include rooms that are end to end encrypted"). Finer
history-visibility checks are the caller's (``homeserver.rooms.search``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .database import IN_LIST_CHUNK, Database, Txn, in_chunks


def index_event(txn: Txn, stream_ordering: int, key: str, text: str) -> None:
    """Index ``text`` (normalised words) under ``key`` for the event at ``stream_ordering``."""
    if txn.dialect == "postgres":
        txn.execute(
            "INSERT INTO event_search (stream_ordering, key, vector)"
            " VALUES (?, ?, to_tsvector('simple', ?))",
            (stream_ordering, key, text),
        )
    else:
        txn.execute(
            "INSERT INTO event_search (rowid, key, value) VALUES (?, ?, ?)",
            (stream_ordering, key, text),
        )


def unindex_event(txn: Txn, event_id: str) -> None:
    """Forget the indexed text of an event (it was redacted)."""
    column = "stream_ordering" if txn.dialect == "postgres" else "rowid"
    txn.execute(
        f"DELETE FROM event_search WHERE {column} ="
        " (SELECT stream_ordering FROM events WHERE event_id = ?)",
        (event_id,),
    )


@dataclass(frozen=True, slots=True)
class SearchSpec:
    """One user's search, as far as SQL narrows it."""

    user_id: str
    terms: tuple[str, ...]  # normalised words; every one must match a word's prefix
    keys: tuple[str, ...]  # searchable keys (at least one)
    by_rank: bool  # order by rank (else by recency)
    upto: int  # the highest stream position searched (fixed across pages)
    rooms: tuple[str, ...] | None = None
    not_rooms: tuple[str, ...] = ()
    senders: tuple[str, ...] | None = None
    not_senders: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Hit:
    event_id: str
    stream_ordering: int
    rank: float


# Where a page starts: after the hit with this (rank, stream_ordering).
Cursor = tuple[float, int]


def _match(txn: Txn, spec: SearchSpec) -> tuple[str, str, str, list[Any]]:
    """``(FROM ... WHERE ..., rank expression, stream column, params)`` for ``spec``."""
    if txn.dialect == "postgres":
        query = " & ".join(f"{term}:*" for term in spec.terms)
        source = (
            "event_search s CROSS JOIN to_tsquery('simple', ?) AS q"
            " JOIN events e ON e.stream_ordering = s.stream_ordering"
        )
        match = "s.vector @@ q"
        rank = "CAST(ts_rank(s.vector, q) AS DOUBLE PRECISION)"
        stream = "s.stream_ordering"
    else:
        # Each word a quoted prefix phrase ("word"*); words hold only letters and digits.
        query = " ".join(f'"{term}"*' for term in spec.terms)
        source = "event_search s JOIN events e ON e.stream_ordering = s.rowid"
        match = "s.value MATCH ?"
        rank = "-bm25(event_search)"
        stream = "s.rowid"
    params: list[Any] = [query, spec.user_id, spec.upto, *spec.keys]
    sql = (
        f"{source}"
        " JOIN local_memberships m ON m.room_id = e.room_id"
        f" WHERE {match} AND m.user_id = ? AND m.forgotten = 0"
        " AND (m.membership = 'join'"
        " OR (m.membership IN ('leave', 'ban') AND e.stream_ordering <= m.stream_ordering))"
        " AND e.stream_ordering <= ? AND e.redacted_by IS NULL"
        f" AND s.key IN {txn.in_list(spec.keys)}"
        " AND NOT EXISTS (SELECT 1 FROM current_state c WHERE c.room_id = e.room_id"
        " AND c.type = 'm.room.encryption' AND c.state_key = '')"
    )
    # Long lists are left to the caller's filter (an IN list has a bounded size).
    for column, values, negate in (
        ("e.room_id", spec.rooms, False),
        ("e.room_id", spec.not_rooms, True),
        ("e.sender", spec.senders, False),
        ("e.sender", spec.not_senders, True),
    ):
        if values is None or len(values) > IN_LIST_CHUNK or (negate and not values):
            continue
        if not values:
            sql += " AND 1 = 0"
            continue
        sql += f" AND {column} {'NOT IN' if negate else 'IN'} {txn.in_list(values)}"
        params += values
    return sql, rank, stream, params


def _after(spec: SearchSpec, cursor: Cursor | None) -> tuple[str, list[Any]]:
    """The condition on the ``hits`` subquery for the rows after ``cursor``."""
    if cursor is None:
        return "", []
    rank, stream = cursor
    if spec.by_rank:
        return (
            " WHERE (hits.rank < ? OR (hits.rank = ? AND hits.stream_ordering < ?))",
            [rank, rank, stream],
        )
    return " WHERE hits.stream_ordering < ?", [stream]


def search_page(txn: Txn, spec: SearchSpec, cursor: Cursor | None, limit: int) -> list[Hit]:
    """Up to ``limit`` hits after ``cursor``, best (or newest) first."""
    where, rank, stream, params = _match(txn, spec)
    after, after_params = _after(spec, cursor)
    order = "hits.rank DESC, " if spec.by_rank else ""
    rows = txn.fetchall(
        f"SELECT hits.event_id, hits.stream_ordering, hits.rank FROM ("
        f"SELECT e.event_id AS event_id, {stream} AS stream_ordering, {rank} AS rank"
        f" FROM {where}) hits{after} ORDER BY {order}hits.stream_ordering DESC LIMIT ?",
        [*params, *after_params, limit],
    )
    return [Hit(row[0], int(row[1]), float(row[2])) for row in rows]


def count(txn: Txn, spec: SearchSpec) -> int:
    """How many events match (before the caller's per-event visibility checks)."""
    where, _, _, params = _match(txn, spec)
    return int(txn.fetchval(f"SELECT COUNT(*) FROM {where}", params) or 0)


def groups_with_more(
    txn: Txn, spec: SearchSpec, cursor: Cursor, column: str, values: Sequence[str]
) -> set[str]:
    """Which of ``values`` of ``column`` (``room_id`` or ``sender``) have hits after
    ``cursor`` (for the ``next_batch`` of result groups)."""
    if column not in ("room_id", "sender"):
        raise ValueError(column)
    where, rank, stream, params = _match(txn, spec)
    after, after_params = _after(spec, cursor)
    found: set[str] = set()
    for chunk in in_chunks(values):
        rows = txn.fetchall(
            f"SELECT DISTINCT hits.grp FROM ("
            f"SELECT e.{column} AS grp, {stream} AS stream_ordering, {rank} AS rank"
            f" FROM {where} AND e.{column} IN {txn.in_list(chunk)}) hits{after}",
            [*params, *chunk, *after_params],
        )
        found.update(row[0] for row in rows)
    return found


class SearchStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def search_page(self, spec: SearchSpec, cursor: Cursor | None, limit: int) -> list[Hit]:
        return await self.db.read(search_page, spec, cursor, limit)

    async def count(self, spec: SearchSpec) -> int:
        return await self.db.read(count, spec)
