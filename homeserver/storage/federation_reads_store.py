"""Queries behind the read-only federation endpoints: walks of the room DAG
(``/backfill``, ``/get_missing_events``), auth chains (``/state``, ``/event_auth``) and
what a server's users were in the room at given events (history visibility for servers).

spec: server-server "Backfilling and retrieving missing events", "Retrieving events".
Plain functions of a ``Txn``; ``FederationReadsStore`` runs them in one read each.

Which events are served: accepted ones with a place in the DAG — ``outlier`` 0
(normal) or 2 (soft-failed: accepted by the auth rules, kept out of the room's
current state but still referenced by other servers' events). Rejected events and
outliers (1: no state known) are neither served nor walked through.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .database import Database, Txn, in_chunks
from .events_store import _EVENT_COLUMNS, StoredEvent, _row_to_stored, get_events
from .room_reads import state_at_groups
from .state_store import StateGroupCache, StateMap, load_state_group

StateKey = tuple[str, str]

# Events in one auth chain we answer with at most (rooms with a long history of
# membership changes have auth chains of tens of thousands of events).
MAX_AUTH_CHAIN = 100_000


def _servable(alias: str = "") -> str:
    """The SQL condition for events we serve (``alias`` of the events table + ``.``)."""
    return f"{alias}rejected_reason IS NULL AND {alias}outlier <> 1"


@dataclass(frozen=True, slots=True)
class DagNode:
    """An event's place in the DAG, enough to walk and order it."""

    event_id: str
    depth: int
    stream_ordering: int


def servable_nodes(txn: Txn, room_id: str, event_ids: Iterable[str]) -> dict[str, DagNode]:
    """The events of ``event_ids`` that belong to ``room_id`` and may be served."""
    found: dict[str, DagNode] = {}
    for chunk in in_chunks(event_ids):
        rows = txn.fetchall(
            "SELECT event_id, depth, stream_ordering FROM events"
            f" WHERE event_id IN {txn.in_list(chunk)} AND room_id = ? AND {_servable()}",
            [*chunk, room_id],
        )
        for event_id, depth, stream in rows:
            found[event_id] = DagNode(event_id, depth, stream)
    return found


def prev_nodes(txn: Txn, room_id: str, event_ids: Sequence[str]) -> dict[str, list[DagNode]]:
    """For each of ``event_ids``, its ``prev_events`` that we hold and may serve."""
    found: dict[str, list[DagNode]] = {event_id: [] for event_id in event_ids}
    for chunk in in_chunks(event_ids):
        rows = txn.fetchall(
            "SELECT g.event_id, e.event_id, e.depth, e.stream_ordering FROM event_edges g"
            " JOIN events e ON e.event_id = g.prev_event_id"
            f" WHERE g.event_id IN {txn.in_list(chunk)} AND e.room_id = ?"
            f" AND {_servable('e.')}",
            [*chunk, room_id],
        )
        for child, event_id, depth, stream in rows:
            found[child].append(DagNode(event_id, depth, stream))
    return found


def backfill_ids(txn: Txn, room_id: str, from_ids: Sequence[str], limit: int) -> list[str]:
    """``from_ids`` and the events before them, at most ``limit``, deepest first.

    spec: server-server "GET /backfill" — "the PDUs given in ``v`` and the PDUs that
    preceded them". A walk of ``prev_events`` that always takes the deepest event not
    yet taken (ties: the latest stored first), so the answer is the most recent
    history before the given events and a peer may page back with the oldest ones.
    """
    if limit <= 0:
        return []
    heap: list[tuple[int, int, str]] = []
    queued: set[str] = set()

    def push(nodes: Iterable[DagNode]) -> None:
        for node in nodes:
            if node.event_id not in queued:
                queued.add(node.event_id)
                heapq.heappush(heap, (-node.depth, -node.stream_ordering, node.event_id))

    push(servable_nodes(txn, room_id, from_ids).values())
    result: list[str] = []
    while heap and len(result) < limit:
        # Take every event at the current deepest depth (up to the limit) at once, so
        # that their prev_events are read in one statement.
        depth = heap[0][0]
        batch: list[str] = []
        while heap and heap[0][0] == depth and len(result) + len(batch) < limit:
            batch.append(heapq.heappop(heap)[2])
        result.extend(batch)
        if len(result) < limit:
            for prevs in prev_nodes(txn, room_id, batch).values():
                push(prevs)
    return result


def missing_event_ids(
    txn: Txn,
    room_id: str,
    earliest: Sequence[str],
    latest: Sequence[str],
    limit: int,
    min_depth: int,
) -> list[str]:
    """The events before ``latest`` that the asking server lacks, oldest first.

    spec: server-server "POST /get_missing_events" — "a breadth-first walk of the
    ``prev_events`` for the ``latest_events``, ignoring any events in
    ``earliest_events`` and stopping at the ``limit``". The ``latest_events``
    themselves are not part of the answer (the peer has them); events below
    ``min_depth`` are left out, and so are their ancestors (a prev event is never
    deeper than its child).
    """
    seen = set(earliest) | set(latest)
    front = [event_id for event_id in dict.fromkeys(latest) if event_id not in earliest]
    found: list[str] = []
    while front and len(found) < limit:
        level: dict[str, DagNode] = {}
        for prevs in prev_nodes(txn, room_id, front).values():
            for node in prevs:
                if node.event_id not in seen and node.depth >= min_depth:
                    level[node.event_id] = node
        seen.update(level)
        # Within a level, the newest first: reversed below into chronological order.
        ordered = sorted(level.values(), key=lambda n: (n.depth, n.stream_ordering), reverse=True)
        taken = ordered[: limit - len(found)]
        found.extend(node.event_id for node in taken)
        front = [node.event_id for node in taken]
    found.reverse()
    return found


def auth_chain_ids(txn: Txn, event_ids: Sequence[str], limit: int = MAX_AUTH_CHAIN) -> set[str]:
    """Every event reachable from ``event_ids`` through ``auth_events``, recursively
    (the given events themselves only where one authorises another).

    A recursive query per chunk of starting events; ``UNION`` (not ``UNION ALL``)
    makes each event appear once, so the walk ends even on a cyclic graph, and
    ``limit`` bounds it.
    """
    chain: set[str] = set()
    for chunk in in_chunks(event_ids):
        rows = txn.fetchall(
            "WITH RECURSIVE chain(id) AS ("
            f" SELECT auth_id FROM event_auth WHERE event_id IN {txn.in_list(chunk)}"
            " UNION SELECT a.auth_id FROM event_auth a JOIN chain c ON a.event_id = c.id)"
            " SELECT id FROM chain LIMIT ?",
            [*chunk, limit],
        )
        chain.update(row[0] for row in rows)
    return chain


def servable_events(
    txn: Txn, event_ids: Sequence[str], with_outliers: bool = False
) -> dict[str, StoredEvent]:
    """The stored events of ``event_ids`` that may be served (see the module doc);
    ``with_outliers``: outliers too (auth chains, single events: a room joined over
    federation holds much of its auth chain as outliers)."""
    condition = "e.rejected_reason IS NULL" if with_outliers else _servable("e.")
    found: dict[str, StoredEvent] = {}
    for chunk in in_chunks(event_ids):
        rows = txn.fetchall(
            f"SELECT {_EVENT_COLUMNS} FROM events e JOIN rooms r ON r.room_id = e.room_id"
            f" WHERE e.event_id IN {txn.in_list(chunk)} AND {condition}",
            chunk,
        )
        for row in rows:
            stored = _row_to_stored(row)
            found[stored.event.event_id] = stored
    return found


def state_before(txn: Txn, event_id: str, cache: StateGroupCache | None) -> StateMap | None:
    """The room state before an event (None: the event is unknown, rejected or an
    outlier, so its state is not known)."""
    row = txn.fetchone(
        f"SELECT state_group_before FROM events WHERE event_id = ? AND {_servable()}",
        (event_id,),
    )
    if row is None or row[0] is None:
        return None
    return load_state_group(txn, row[0], cache)


def server_member_keys(txn: Txn, room_id: str, server_name: str) -> list[StateKey]:
    """``m.room.member`` state keys of the users of ``server_name`` that ever had a
    membership in the room."""
    rows = txn.fetchall(
        "SELECT DISTINCT state_key FROM events WHERE room_id = ? AND type = 'm.room.member'"
        " AND state_key LIKE ?",
        (room_id, "%:" + server_name),
    )
    # ``LIKE`` is a prefilter: the domain is everything after the user id's first colon.
    return [
        ("m.room.member", key)
        for (key,) in rows
        if key.startswith("@") and key.partition(":")[2] == server_name
    ]


def server_joined(txn: Txn, room_id: str, server_name: str) -> bool:
    """Whether a user of ``server_name`` is joined to the room now (current state)."""
    rows = txn.fetchall(
        "SELECT state_key FROM current_state WHERE room_id = ? AND type = 'm.room.member'"
        " AND membership = 'join' AND state_key LIKE ?",
        (room_id, "%:" + server_name),
    )
    return any(key.partition(":")[2] == server_name for (key,) in rows)


@dataclass(frozen=True, slots=True)
class ServerView:
    """What a server's history visibility decision needs for one event: the room's
    ``history_visibility`` before the event and the memberships of the server's users
    once the event is applied (their own join shows them the join)."""

    visibility: str | None
    memberships: tuple[str, ...]


def server_views(
    txn: Txn,
    room_id: str,
    server_name: str,
    events: Sequence[StoredEvent],
    cache: StateGroupCache | None = None,
) -> dict[str, ServerView | None]:
    """``ServerView`` of each event (None for an event without stored state)."""
    members = server_member_keys(txn, room_id, server_name)
    visibility_key: StateKey = ("m.room.history_visibility", "")
    groups = {
        group
        for stored in events
        for group in (stored.state_group_before, stored.state_group_after)
        if group is not None
    }
    at_group = state_at_groups(txn, groups, [visibility_key, *members], cache)
    wanted = {event_id for state in at_group.values() for event_id in state.values()}
    state_events = get_events(txn, sorted(wanted)) if wanted else {}

    def membership(event_id: str) -> str | None:
        stored = state_events.get(event_id)
        return stored.event.membership if stored is not None else None

    def visibility(event_id: str | None) -> str | None:
        stored = state_events.get(event_id) if event_id is not None else None
        value = stored.event.content.get("history_visibility") if stored is not None else None
        return value if isinstance(value, str) else None

    views: dict[str, ServerView | None] = {}
    for stored in events:
        before, after = stored.state_group_before, stored.state_group_after
        if before is None:
            views[stored.event.event_id] = None
            continue
        state_after = at_group.get(after if after is not None else before, {})
        views[stored.event.event_id] = ServerView(
            visibility=visibility(at_group[before].get(visibility_key)),
            memberships=tuple(
                m for key in members if key in state_after and (m := membership(state_after[key]))
            ),
        )
    return views


class FederationReadsStore:
    def __init__(self, db: Database, groups: StateGroupCache | None = None) -> None:
        self.db = db
        self.groups = groups

    async def server_joined(self, room_id: str, server_name: str) -> bool:
        return await self.db.read(server_joined, room_id, server_name)

    async def backfill(self, room_id: str, from_ids: Sequence[str], limit: int) -> list[str]:
        return await self.db.read(backfill_ids, room_id, from_ids, limit)

    async def missing_events(
        self,
        room_id: str,
        earliest: Sequence[str],
        latest: Sequence[str],
        limit: int,
        min_depth: int,
    ) -> list[str]:
        return await self.db.read(missing_event_ids, room_id, earliest, latest, limit, min_depth)

    async def auth_chain_ids(self, event_ids: Sequence[str]) -> set[str]:
        if not event_ids:
            return set()
        return await self.db.read(auth_chain_ids, event_ids)

    async def events(
        self, event_ids: Sequence[str], *, with_outliers: bool = False
    ) -> dict[str, StoredEvent]:
        if not event_ids:
            return {}
        return await self.db.read(servable_events, event_ids, with_outliers)

    async def state_before(self, event_id: str) -> StateMap | None:
        return await self.db.read(state_before, event_id, self.groups)

    async def server_views(
        self, room_id: str, server_name: str, events: Sequence[StoredEvent]
    ) -> dict[str, ServerView | None]:
        if not events:
            return {}
        return await self.db.read(server_views, room_id, server_name, events, self.groups)
