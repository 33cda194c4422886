"""``/messages`` and ``/context``: a room's timeline in pages, filtered per user.

spec: client-server "GET /rooms/{roomId}/messages", "GET /rooms/{roomId}/context/
{eventId}". Tokens name gaps between events in (depth, stream) order
(``homeserver.sync.tokens``): backwards pages return the events before the gap,
newest first, and ``end`` is the gap before the oldest event looked at; forwards
pages return the events from the gap on, oldest first, and ``end`` is the gap after
the newest event looked at. A sync ``StreamToken`` is accepted too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeserver.errors import MatrixError
from homeserver.storage import room_reads
from homeserver.storage.events_store import StoredEvent
from homeserver.storage.store import Store
from homeserver.sync.tokens import StreamToken, TopoToken, is_stream_token

from .access import ReadScope, RoomAccess
from .client_format import JsonDict
from .event_filter import EventFilter
from .events_view import EventRenderer, Viewer

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


class MessagesHandler:
    def __init__(self, store: Store, access: RoomAccess, renderer: EventRenderer) -> None:
        self.store = store
        self.access = access
        self.renderer = renderer

    async def gap_for(self, room_id: str, token: str) -> Pos:
        """The gap a ``from``/``to``/``at`` token names (400 ``M_INVALID_PARAM`` if bad)."""
        if is_stream_token(token):
            position = StreamToken.parse(token).room_events
            last = await self.store.db.read(room_reads.last_event_upto_stream, room_id, position)
            return START if last is None else (last[0], last[1] + 1)
        topo = TopoToken.parse(token)
        return (topo.depth, topo.stream)

    async def room_end(self, room_id: str) -> Pos:
        last = await self.store.db.read(room_reads.room_end, room_id)
        return START if last is None else (last[0], last[1] + 1)

    async def leave_cap(self, scope: ReadScope) -> Pos | None:
        """The gap after the user's leave, beyond which they see nothing of the room."""
        if scope.left_event_id is None or scope.world_readable:
            return None
        found = await self.store.db.read(room_reads.topo_position, scope.left_event_id)
        if found is None:
            return None
        depth, stream = found[1]
        return (depth, stream + 1)

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
        events: list[StoredEvent] = []
        if limit <= 0:
            return Page(events, None, False)
        cursor = start
        last: Pos | None = None
        fetch = max(limit, 20)
        for _ in range(MAX_ROUNDS):
            batch = await self.store.events.paginate_room(room_id, cursor, backwards, fetch, to)
            for stored in batch:
                last = _pos(stored)
                if flt.matches_event(stored.event) and check(stored):
                    events.append(stored)
                    if len(events) >= limit:
                        return Page(events, self._after(last, backwards), False)
            if len(batch) < fetch:
                return Page(events, self._after(last, backwards) if last else None, True)
            assert last is not None
            cursor = self._after(last, backwards)
        return Page(events, self._after(last, backwards) if last else None, False)

    @staticmethod
    def _after(pos: Pos, backwards: bool) -> Pos:
        """The gap past ``pos`` in the direction of travel."""
        return pos if backwards else (pos[0], pos[1] + 1)

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
        scope = await self.access.require_reader(viewer.user_id, room_id)
        cap = await self.leave_cap(scope)
        if from_token is not None:
            start = await self.gap_for(room_id, from_token)
        elif backwards:
            start = cap or await self.room_end(room_id)
        else:
            start = START
        to = await self.gap_for(room_id, to_token) if to_token is not None else None
        if cap is not None:
            if backwards:
                start = min(start, cap)
            else:
                to = cap if to is None else min(to, cap)
        check = await self.access.checker(scope)
        page = await self.page(
            room_id, start, backwards=backwards, limit=limit, to=to, flt=flt, check=check
        )
        body: JsonDict = {
            "chunk": await self.renderer.render(page.events, viewer),
            "start": from_token if from_token is not None else _token(start),
        }
        has_more = not page.exhausted or (not backwards and bool(page.events))
        if page.next_gap is not None and has_more:
            body["end"] = _token(page.next_gap)
        if flt.lazy_load_members and page.events:
            oldest = page.events[-1] if backwards else page.events[0]
            senders = {s.event.sender for s in page.events}
            body["state"] = await self.members_at(oldest.state_group_before, senders, viewer)
        return body

    async def members_at(
        self, group: int | None, users: set[str], viewer: Viewer
    ) -> list[JsonDict]:
        """The member events of ``users`` in state group ``group`` (lazy loading)."""
        if group is None or not users:
            return []
        keys = [("m.room.member", user) for user in sorted(users)]
        at = await self.store.db.read(
            room_reads.state_at_groups, [group], keys, self.store.state.groups
        )
        ids = list(at.get(group, {}).values())
        found = await self.store.events.get_events(ids)
        return await self.renderer.render(
            [found[i] for i in ids if i in found], viewer, prev_content=False
        )

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
