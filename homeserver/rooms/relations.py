"""``/relations`` and ``/threads``, and the relation rules for local sends.

spec: client-server "Relationships API" (``GET /rooms/{roomId}/relations/{eventId}
[/{relType}[/{eventType}]]``), "Querying threads in a room" (``GET /rooms/{roomId}/
threads``), "Avoiding duplicate annotations", "Validation of m.thread
relationships". Pages use the tokens of ``/messages`` (gaps in (depth, stream)
order, ``homeserver.sync.tokens``): a ``/messages`` or ``/sync`` token works as
``from``/``to`` here too. Each request is one read transaction: the user's access,
the parent, the page (filtered by history visibility) and what rendering needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeserver.errors import MatrixError
from homeserver.protocol import relations as rel
from homeserver.storage import events_store, relations_store
from homeserver.storage.database import Txn
from homeserver.storage.events_store import StoredEvent
from homeserver.storage.relations_store import RelationRooms
from homeserver.storage.state_store import StateGroupCache
from homeserver.storage.store import Store
from homeserver.sync.tokens import TopoToken

from .access import RoomAccess, reader_scope, visibility_checker
from .client_format import JsonDict
from .events_view import EventRenderer, UnsignedExtras, Viewer, load_extras
from .messages import START, gap_for, leave_cap
from .room_state import RoomStateCache

Pos = tuple[int, int]

DEFAULT_LIMIT = 5
MAX_LIMIT = 1000
# How many batches one request may look through while visibility hides events.
MAX_ROUNDS = 5
# The gap after every event of a room.
END: Pos = (2**62, 2**62)


def not_found() -> MatrixError:
    return MatrixError(404, "M_NOT_FOUND", "Event not found")


def _after(pos: Pos, backwards: bool) -> Pos:
    """The gap past the event at ``pos`` in the direction of travel."""
    return pos if backwards else (pos[0], pos[1] + 1)


def _pos(stored: StoredEvent) -> Pos:
    return (stored.event.depth, stored.stream_ordering)


@dataclass(frozen=True, slots=True)
class RelationsQuery:
    viewer: Viewer
    room_id: str
    parent_id: str
    world_readable: bool
    rel_type: str | None
    event_type: str | None
    from_token: str | None
    to_token: str | None
    backwards: bool
    limit: int
    recurse: bool


@dataclass(frozen=True, slots=True)
class LoadedPage:
    events: list[StoredEvent]
    next_gap: Pos | None  # None: nothing more in that direction
    extras: UnsignedExtras


def _visible_parent(
    txn: Txn, room_id: str, event_id: str, check: Callable[[StoredEvent], bool]
) -> StoredEvent:
    parent = events_store.get_events(txn, [event_id]).get(event_id)
    if (
        parent is None
        or parent.event.room_id != room_id
        or parent.outlier
        or parent.rejected_reason is not None
        or not check(parent)
    ):
        raise not_found()
    return parent


def load_relations(
    txn: Txn,
    query: RelationsQuery,
    groups: StateGroupCache | None = None,
    relation_rooms: RelationRooms | None = None,
) -> LoadedPage:
    """One ``/relations`` page: 403 when the user may not read the room, 404 when the
    parent is unknown or hidden from them (spec: the endpoint's 404)."""
    room_id, backwards = query.room_id, query.backwards
    scope = reader_scope(txn, room_id, query.viewer.user_id, query.world_readable)
    check = visibility_checker(txn, room_id, query.viewer.user_id)
    _visible_parent(txn, room_id, query.parent_id, check)
    if query.from_token is not None:
        start = gap_for(txn, room_id, query.from_token)
    else:
        start = END if backwards else START
    to = gap_for(txn, room_id, query.to_token) if query.to_token is not None else None
    if (cap := leave_cap(txn, scope)) is not None:
        if backwards:
            start = min(start, cap)
        else:
            to = cap if to is None else min(to, cap)
    events: list[StoredEvent] = []
    next_gap: Pos | None = None
    if query.limit > 0:
        events, next_gap = _read_children(txn, query, start, to, check)
    extras = load_extras(txn, events, query.viewer, True, groups, relation_rooms=relation_rooms)
    return LoadedPage(events, next_gap, extras)


def _read_children(
    txn: Txn,
    query: RelationsQuery,
    start: Pos,
    to: Pos | None,
    check: Callable[[StoredEvent], bool],
) -> tuple[list[StoredEvent], Pos | None]:
    """Up to ``limit`` visible children from ``start``, and the gap to go on from
    (None when the children in that direction are exhausted)."""
    limit, backwards = query.limit, query.backwards
    taken: list[StoredEvent] = []
    cursor = start
    fetch = max(limit + 1, 20)
    for _ in range(MAX_ROUNDS):
        batch = relations_store.children_page(
            txn,
            query.room_id,
            query.parent_id,
            cursor,
            backwards=backwards,
            limit=fetch,
            to=to,
            rel_type=query.rel_type,
            event_type=query.event_type,
            recurse=query.recurse,
        )
        for stored in batch:
            if len(taken) == limit:
                return taken, cursor  # one more child exists past the page
            if check(stored):
                taken.append(stored)
            cursor = _after(_pos(stored), backwards)
        if len(batch) < fetch:
            return taken, None
    return taken, cursor


@dataclass(frozen=True, slots=True)
class ThreadsQuery:
    viewer: Viewer
    room_id: str
    world_readable: bool
    participated: bool
    from_token: str | None
    limit: int


def load_threads(
    txn: Txn,
    query: ThreadsQuery,
    groups: StateGroupCache | None = None,
    relation_rooms: RelationRooms | None = None,
) -> LoadedPage:
    """One ``/threads`` page: the roots the user may see, latest thread activity first."""
    user_id = query.viewer.user_id
    reader_scope(txn, query.room_id, user_id, query.world_readable)
    check = visibility_checker(txn, query.room_id, user_id)
    before: Pos | None = None
    if query.from_token is not None:
        token = TopoToken.parse(query.from_token)
        before = (token.depth, token.stream)
    participant = user_id if query.participated else None
    taken: list[StoredEvent] = []
    next_gap: Pos | None = None
    fetch = max(query.limit + 1, 20)
    for _ in range(MAX_ROUNDS):
        rows = relations_store.threads_page(txn, query.room_id, before, fetch, participant)
        roots = events_store.get_events(txn, [row.thread_id for row in rows])
        full = False
        for row in rows:
            if len(taken) == query.limit:
                full = True
                break
            root = roots.get(row.thread_id)
            if (
                root is not None
                and root.event.room_id == query.room_id
                and not root.outlier
                and root.rejected_reason is None
                and check(root)
            ):
                taken.append(root)
            before = row.latest
        if full:
            next_gap = before
            break
        if len(rows) < fetch:
            break
    else:
        next_gap = before
    extras = load_extras(txn, taken, query.viewer, True, groups, relation_rooms=relation_rooms)
    return LoadedPage(taken, next_gap, extras)


class RelationsHandler:
    def __init__(
        self, store: Store, rooms: RoomStateCache, access: RoomAccess, renderer: EventRenderer
    ) -> None:
        self.store = store
        self.rooms = rooms
        self.access = access
        self.renderer = renderer

    async def relations(
        self,
        viewer: Viewer,
        room_id: str,
        parent_id: str,
        *,
        rel_type: str | None,
        event_type: str | None,
        from_token: str | None,
        to_token: str | None,
        backwards: bool,
        limit: int,
        recurse: bool | None,
    ) -> JsonDict:
        readable = await self.access.readable_room(room_id)
        query = RelationsQuery(
            viewer,
            room_id,
            parent_id,
            readable,
            rel_type,
            event_type,
            from_token,
            to_token,
            backwards,
            limit,
            bool(recurse),
        )
        page = await self.store.db.read(
            load_relations, query, self.store.state.groups, self.store.relations.rooms
        )
        body: JsonDict = {"chunk": self.renderer.render_loaded(page.events, page.extras)}
        if page.next_gap is not None:
            body["next_batch"] = TopoToken(*page.next_gap).encode()
        if from_token is not None:
            body["prev_batch"] = from_token
        if recurse is not None:
            # spec: `recursion_depth` is present exactly when the client sent `recurse`.
            body["recursion_depth"] = relations_store.RECURSION_DEPTH if recurse else 1
        return body

    async def threads(
        self,
        viewer: Viewer,
        room_id: str,
        *,
        participated: bool,
        from_token: str | None,
        limit: int,
    ) -> JsonDict:
        readable = await self.access.readable_room(room_id)
        query = ThreadsQuery(viewer, room_id, readable, participated, from_token, limit)
        page = await self.store.db.read(
            load_threads, query, self.store.state.groups, self.store.relations.rooms
        )
        body: JsonDict = {"chunk": self.renderer.render_loaded(page.events, page.extras)}
        if page.next_gap is not None:
            body["next_batch"] = TopoToken(*page.next_gap).encode()
        return body

    async def annotations(
        self, viewer: Viewer, room_id: str, parent_id: str, event_type: str = "m.reaction"
    ) -> dict[str, rel.AnnotationCount]:
        """``{key: {"count", "senders"}}`` of an event's annotations of ``event_type``
        (reactions by default) — what ``/relations/{id}/m.annotation/m.reaction``
        returns, counted (``homeserver.protocol.relations.annotation_summary``)."""
        scope = await self.access.require_reader(viewer.user_id, room_id)
        check = await self.access.checker(scope)
        await self.store.db.read(_visible_parent, room_id, parent_id, check)
        pairs = await self.store.relations.annotations(room_id, parent_id, event_type)
        return rel.annotation_summary(pairs)

    async def check_send(
        self,
        room_id: str,
        sender: str,
        event_type: str,
        content: Mapping[str, Any],
        state_key: str | None,
    ) -> None:
        """The relation rules for a local send (a ``pipeline.SendCheck``).

        400 ``M_DUPLICATE_ANNOTATION`` for a second identical annotation (spec:
        "Avoiding duplicate annotations"); 400 ``M_UNKNOWN`` for a thread started
        from an event that is itself a child (spec: "Validation of m.thread
        relationships"), for a parent in another room, and for a parent the server has
        never heard of (the client cannot know it); 400 ``M_BAD_JSON`` for an
        annotation without a string ``key``.
        """
        relates = content.get("m.relates_to")
        if relates is None:
            return
        if (
            isinstance(relates, Mapping)
            and relates.get("rel_type") == rel.ANNOTATION
            and not isinstance(relates.get("key"), str)
        ):
            raise MatrixError(400, "M_BAD_JSON", "An m.annotation needs a string `key`")
        relation = rel.relation_of(content)
        if relation is None:
            return  # a reply, or no relation the server knows how to read: stored as is
        parent_id = relation.parent_id
        parent = (await self.rooms.get_events([parent_id])).get(parent_id)
        if parent is None:
            if not await self.store.relations.has_relations(parent_id):
                raise MatrixError(400, "M_UNKNOWN", "Cannot relate to an unknown event")
        elif parent.room_id != room_id:
            raise MatrixError(400, "M_UNKNOWN", "Relations must be in the same room")
        if relation.rel_type == rel.ANNOTATION:
            assert relation.key is not None
            if await self.store.relations.has_annotation(
                parent_id, sender, event_type, relation.key
            ):
                raise MatrixError(400, "M_DUPLICATE_ANNOTATION", "You already sent this annotation")
        elif (
            relation.rel_type == rel.THREAD
            and parent is not None
            and rel.own_rel_type(parent.content) is not None
        ):
            raise MatrixError(
                400, "M_UNKNOWN", "Cannot start a thread from an event with a relation"
            )
