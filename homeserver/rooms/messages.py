"""``/messages`` and ``/context``: a room's timeline in pages, filtered per user.

spec: client-server "GET /rooms/{roomId}/messages", "GET /rooms/{roomId}/context/
{eventId}". Tokens name gaps between events in (depth, stream) order
(``homeserver.sync.tokens``): backwards pages return the events before the gap,
newest first, and ``end`` is the gap before the oldest event looked at; forwards
pages return the events from the gap on, oldest first, and ``end`` is the gap after
the newest event looked at. A sync ``StreamToken`` is accepted too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeserver.errors import MatrixError
from homeserver.storage import events_store, room_reads
from homeserver.storage.database import Txn
from homeserver.storage.events_store import StoredEvent
from homeserver.storage.relations_store import RelationRooms
from homeserver.storage.state_store import StateGroupCache
from homeserver.storage.store import Store
from homeserver.sync.tokens import StreamToken, TopoToken, is_stream_token

from .access import ReadScope, RoomAccess, reader_scope, visibility_checker
from .client_format import JsonDict
from .event_filter import EventFilter
from .events_view import EventRenderer, UnsignedExtras, Viewer, load_extras

Pos = tuple[int, int]

DEFAULT_LIMIT = 10
MAX_LIMIT = 1000
# How many raw batches one request may look through while filters hide events.
MAX_ROUNDS = 5
# The gap before every event of a room.
START: Pos = (0, -(2**62))


@dataclass
class Page:
    events: list[StoredEvent]
    # The gap to continue from (None: nothing was looked at).
    next_gap: Pos | None
    # No more events in that direction (up to ``to``) when the page was read.
    exhausted: bool


def _pos(stored: StoredEvent) -> Pos:
    return (stored.event.depth, stored.stream_ordering)


def _token(gap: Pos) -> str:
    return TopoToken(*gap).encode()


def gap_for(txn: Txn, room_id: str, token: str) -> Pos:
    """The gap a ``from``/``to``/``at`` token names (400 ``M_INVALID_PARAM`` if bad)."""
    if is_stream_token(token):
        position = StreamToken.parse(token).room_events
        last = room_reads.last_event_upto_stream(txn, room_id, position)
        return START if last is None else (last[0], last[1] + 1)
    topo = TopoToken.parse(token)
    return (topo.depth, topo.stream)


def leave_cap(txn: Txn, scope: ReadScope) -> Pos | None:
    """The gap after the user's leave, beyond which they see nothing of the room."""
    if scope.left_event_id is None or scope.world_readable:
        return None
    found = room_reads.topo_position(txn, scope.left_event_id)
    if found is None:
        return None
    depth, stream = found[1]
    return (depth, stream + 1)


def _after(pos: Pos, backwards: bool) -> Pos:
    """The gap past ``pos`` in the direction of travel."""
    return pos if backwards else (pos[0], pos[1] + 1)


def read_page(
    txn: Txn,
    room_id: str,
    start: Pos,
    *,
    backwards: bool,
    limit: int,
    to: Pos | None,
    flt: EventFilter,
    check: Callable[[StoredEvent], bool],
) -> Page:
    """Up to ``limit`` events from the gap ``start`` that ``flt`` and ``check`` take."""
    events: list[StoredEvent] = []
    if limit <= 0:
        return Page(events, None, False)
    cursor = start
    last: Pos | None = None
    fetch = max(limit, 20)
    for _ in range(MAX_ROUNDS):
        batch = events_store.paginate_room(txn, room_id, cursor, backwards, fetch, to)
        for stored in batch:
            last = _pos(stored)
            if flt.matches_event(stored.event) and check(stored):
                events.append(stored)
                if len(events) >= limit:
                    return Page(events, _after(last, backwards), False)
        if len(batch) < fetch:
            return Page(events, _after(last, backwards) if last else None, True)
        assert last is not None
        cursor = _after(last, backwards)
    return Page(events, _after(last, backwards) if last else None, False)


@dataclass(frozen=True, slots=True)
class MessagesQuery:
    viewer: Viewer
    room_id: str
    world_readable: bool
    from_token: str | None
    to_token: str | None
    backwards: bool
    limit: int
    flt: EventFilter


@dataclass(frozen=True, slots=True)
class LoadedMessages:
    start: Pos
    page: Page
    extras: UnsignedExtras
    members: list[StoredEvent]  # lazy loading: the senders' member events
    member_extras: UnsignedExtras | None


def load_messages(
    txn: Txn,
    query: MessagesQuery,
    groups: StateGroupCache | None = None,
    relation_rooms: RelationRooms | None = None,
) -> LoadedMessages:
    """Everything one ``/messages`` page needs, in one read (each ``db.read`` is a
    thread hop, and on PostgreSQL each of its statements a round trip): the user's
    access, the gaps the tokens name, the page, and what rendering it needs."""
    viewer, room_id, backwards = query.viewer, query.room_id, query.backwards
    scope = reader_scope(txn, room_id, viewer.user_id, query.world_readable)
    cap = leave_cap(txn, scope)
    if query.from_token is not None:
        start = gap_for(txn, room_id, query.from_token)
    elif backwards:
        start = cap or _room_end(txn, room_id)
    else:
        start = START
    to = gap_for(txn, room_id, query.to_token) if query.to_token is not None else None
    if cap is not None:
        if backwards:
            start = min(start, cap)
        else:
            to = cap if to is None else min(to, cap)
    check = visibility_checker(txn, room_id, viewer.user_id)
    page = read_page(
        txn,
        room_id,
        start,
        backwards=backwards,
        limit=query.limit,
        to=to,
        flt=query.flt,
        check=check,
    )
    extras = load_extras(txn, page.events, viewer, True, groups, relation_rooms=relation_rooms)
    members: list[StoredEvent] = []
    member_extras: UnsignedExtras | None = None
    if query.flt.lazy_load_members and page.events:
        oldest = page.events[-1] if backwards else page.events[0]
        senders = {s.event.sender for s in page.events}
        members = _members_at(txn, oldest.state_group_before, senders, groups)
        member_extras = load_extras(txn, members, viewer, False, groups, bundle=False)
    return LoadedMessages(start, page, extras, members, member_extras)


def _room_end(txn: Txn, room_id: str) -> Pos:
    last = room_reads.room_end(txn, room_id)
    return START if last is None else (last[0], last[1] + 1)


def _members_at(
    txn: Txn, group: int | None, users: set[str], groups: StateGroupCache | None
) -> list[StoredEvent]:
    """The member events of ``users`` in state group ``group`` (lazy loading)."""
    if group is None or not users:
        return []
    keys = [("m.room.member", user) for user in sorted(users)]
    ids = list(room_reads.state_at_groups(txn, [group], keys, groups).get(group, {}).values())
    found = events_store.get_events(txn, ids) if ids else {}
    return [found[i] for i in ids if i in found]


class MessagesHandler:
    def __init__(self, store: Store, access: RoomAccess, renderer: EventRenderer) -> None:
        self.store = store
        self.access = access
        self.renderer = renderer
        # Set when federation is on: ``(room_id, limit)`` fetches history we lack
        # from other servers; whether anything came.
        self.backfill: Callable[[str, int], Awaitable[bool]] | None = None

    async def gap_for(self, room_id: str, token: str) -> Pos:
        return await self.store.db.read(gap_for, room_id, token)

    async def leave_cap(self, scope: ReadScope) -> Pos | None:
        return await self.store.db.read(leave_cap, scope)

    async def page(
        self,
        room_id: str,
        start: Pos,
        *,
        backwards: bool,
        limit: int,
        to: Pos | None,
        flt: EventFilter,
        check: Callable[[StoredEvent], bool],
    ) -> Page:
        return await self.store.db.read(
            read_page,
            room_id,
            start,
            backwards=backwards,
            limit=limit,
            to=to,
            flt=flt,
            check=check,
        )

    async def messages(
        self,
        viewer: Viewer,
        room_id: str,
        *,
        from_token: str | None,
        to_token: str | None,
        backwards: bool,
        limit: int,
        flt: EventFilter,
    ) -> JsonDict:
        readable = await self.access.readable_room(room_id)
        query = MessagesQuery(
            viewer, room_id, readable, from_token, to_token, backwards, limit, flt
        )
        loaded = await self.store.db.read(
            load_messages, query, self.store.state.groups, self.store.relations.rooms
        )
        if (
            backwards
            and self.backfill is not None
            and len(loaded.page.events) < limit
            and to_token is None
            and await self.backfill(room_id, limit)
        ):
            # spec: server-server "Backfilling" — the page reaches past what we held.
            loaded = await self.store.db.read(
                load_messages, query, self.store.state.groups, self.store.relations.rooms
            )
        page = loaded.page
        body: JsonDict = {
            "chunk": self.renderer.render_loaded(page.events, loaded.extras),
            "start": from_token if from_token is not None else _token(loaded.start),
        }
        has_more = not page.exhausted or (not backwards and bool(page.events))
        if page.next_gap is not None and has_more:
            body["end"] = _token(page.next_gap)
        if loaded.member_extras is not None:
            body["state"] = self.renderer.render_loaded(loaded.members, loaded.member_extras)
        elif flt.lazy_load_members and page.events:
            body["state"] = []
        return body

    async def closest_event(
        self, viewer: Viewer, room_id: str, ts: int, *, backwards: bool
    ) -> JsonDict:
        """spec: "GET /rooms/{roomId}/timestamp_to_event" — the visible event closest to
        ``ts`` in the direction asked; 404 when there is none."""
        scope = await self.access.require_reader(viewer.user_id, room_id)
        found = await self.store.events.closest_by_ts(room_id, ts, backwards)
        if found is not None:
            stored = await self.store.events.get_event(found[0])
            check = await self.access.checker(scope)
            if stored is not None and check(stored):
                return {"event_id": found[0], "origin_server_ts": found[1]}
        direction = "before" if backwards else "after"
        raise MatrixError(404, "M_NOT_FOUND", f"No event found {direction} {ts} in {room_id}")

    async def members_at(
        self, group: int | None, users: set[str], viewer: Viewer
    ) -> list[JsonDict]:
        """The member events of ``users`` in state group ``group`` (lazy loading)."""
        members = await self.store.db.read(_members_at, group, users, self.store.state.groups)
        return await self.renderer.render(members, viewer, prev_content=False)

    async def context(
        self, viewer: Viewer, room_id: str, event_id: str, *, limit: int, flt: EventFilter
    ) -> JsonDict:
        scope = await self.access.require_reader(viewer.user_id, room_id)
        stored = await self.store.events.get_event(event_id)
        check = await self.access.checker(scope)
        if (
            stored is None
            or stored.event.room_id != room_id
            or stored.outlier
            or stored.rejected_reason is not None
            or not check(stored)
        ):
            raise MatrixError(404, "M_NOT_FOUND", "Event not found")
        pos = _pos(stored)
        cap = await self.leave_cap(scope)
        before_limit = limit // 2
        before = await self.page(
            room_id, pos, backwards=True, limit=before_limit, to=None, flt=flt, check=check
        )
        after = await self.page(
            room_id,
            (pos[0], pos[1] + 1),
            backwards=False,
            limit=limit - before_limit,
            to=cap,
            flt=flt,
            check=check,
        )
        last = after.events[-1] if after.events else stored
        body: JsonDict = {
            "event": await self.renderer.render_one(stored, viewer),
            "events_before": await self.renderer.render(before.events, viewer),
            "events_after": await self.renderer.render(after.events, viewer),
            "start": _token(before.next_gap or pos),
            "end": _token(after.next_gap or (pos[0], pos[1] + 1)),
        }
        everything = [*before.events, stored, *after.events]
        if flt.lazy_load_members:
            senders = {s.event.sender for s in everything}
            body["state"] = await self.members_at(last.state_group_after, senders, viewer)
        else:
            body["state"] = await self.state_at(last.state_group_after, viewer)
        return body

    async def state_at(self, group: int | None, viewer: Viewer) -> list[JsonDict]:
        if group is None:
            return []
        ids = await self.store.state.load_state_group(group)
        found = await self.store.events.get_events(list(ids.values()))
        events = [found[i] for i in ids.values() if i in found]
        return await self.renderer.render(events, viewer, prev_content=False)
