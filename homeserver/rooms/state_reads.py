"""Reading a room's state and members: ``/state``, ``/members``, ``/joined_members``,
``/event``.

spec: client-server "GET /rooms/{roomId}/state", "GET /rooms/{roomId}/state/
{eventType}/{stateKey}", "GET /rooms/{roomId}/members", "GET /rooms/{roomId}/
joined_members", "GET /rooms/{roomId}/event/{eventId}". A member sees the current
state; a user who left sees the state as it was when they left.
"""

from __future__ import annotations

from collections.abc import Collection

from homeserver.errors import MatrixError
from homeserver.storage import room_reads
from homeserver.storage.events_store import StoredEvent
from homeserver.storage.store import Store

from .access import ReadScope, RoomAccess
from .client_format import JsonDict
from .events_view import EventRenderer, Viewer
from .messages import MessagesHandler
from .room_state import RoomStateCache, StateKey

MEMBERSHIPS = frozenset({"join", "invite", "knock", "leave", "ban"})


def not_found(message: str) -> MatrixError:
    return MatrixError(404, "M_NOT_FOUND", message)


class StateReader:
    def __init__(
        self,
        store: Store,
        rooms: RoomStateCache,
        access: RoomAccess,
        renderer: EventRenderer,
        messages: MessagesHandler,
    ) -> None:
        self.store = store
        self.rooms = rooms
        self.access = access
        self.renderer = renderer
        self.messages = messages

    async def state_ids(self, scope: ReadScope) -> dict[StateKey, str]:
        """The state the user may read: current, or as of their leave."""
        if scope.left_event_id is not None and not scope.world_readable:
            left = await self.store.events.get_event(scope.left_event_id)
            if left is not None and left.state_group_after is not None:
                return await self.store.state.load_state_group(left.state_group_after)
        info = await self.rooms.room(scope.room_id)
        return dict(info.state) if info is not None else {}

    async def _events(self, ids: Collection[str]) -> list[StoredEvent]:
        found = await self.store.events.get_events(list(ids))
        return [found[i] for i in ids if i in found]

    async def full_state(self, viewer: Viewer, room_id: str) -> list[JsonDict]:
        scope = await self.access.require_reader(viewer.user_id, room_id)
        ids = await self.state_ids(scope)
        events = await self._events(list(ids.values()))
        return await self.renderer.render(events, viewer, prev_content=False)

    async def state_event(
        self, viewer: Viewer, room_id: str, event_type: str, state_key: str, *, as_event: bool
    ) -> JsonDict:
        scope = await self.access.require_reader(viewer.user_id, room_id)
        event_id = (await self.state_ids(scope)).get((event_type, state_key))
        stored = await self.store.events.get_event(event_id) if event_id else None
        if stored is None:
            raise not_found(f"No {event_type} state with key {state_key!r} in the room")
        if as_event:
            return await self.renderer.render_one(stored, viewer)
        return dict(stored.event.content)

    async def members(
        self,
        viewer: Viewer,
        room_id: str,
        *,
        at: str | None,
        membership: str | None,
        not_membership: str | None,
    ) -> list[JsonDict]:
        scope = await self.access.require_reader(viewer.user_id, room_id)
        if at is None:
            ids = await self.state_ids(scope)
        else:
            gap = await self.messages.gap_for(room_id, at)
            cap = await self.messages.leave_cap(scope)
            if cap is not None:
                gap = min(gap, cap)
            last = await self.store.db.read(room_reads.last_event_before, room_id, gap)
            if last is None or last[1] is None:
                ids = {}
            else:
                ids = await self.store.state.load_state_group(last[1])
        member_ids = [eid for (typ, _), eid in sorted(ids.items()) if typ == "m.room.member"]
        events = await self._events(member_ids)
        kept = [
            s
            for s in events
            if (membership is None or s.event.membership == membership)
            and (not_membership is None or s.event.membership != not_membership)
        ]
        return await self.renderer.render(kept, viewer, prev_content=False)

    async def joined_members(self, viewer: Viewer, room_id: str) -> dict[str, JsonDict]:
        scope = await self.access.require_reader(viewer.user_id, room_id)
        ids = await self.state_ids(scope)
        member_ids = [eid for (typ, _), eid in ids.items() if typ == "m.room.member"]
        events = await self.rooms.get_events(member_ids)
        joined: dict[str, JsonDict] = {}
        for event in events.values():
            if event.membership != "join" or event.state_key is None:
                continue
            profile: JsonDict = {}
            for source, target in (("displayname", "display_name"), ("avatar_url", "avatar_url")):
                value = event.content.get(source)
                if isinstance(value, str):
                    profile[target] = value
            joined[event.state_key] = profile
        return joined

    async def event(self, viewer: Viewer, room_id: str, event_id: str) -> JsonDict:
        scope = await self.access.require_reader(viewer.user_id, room_id)
        stored = await self.store.events.get_event(event_id)
        if (
            stored is None
            or stored.event.room_id != room_id
            or stored.rejected_reason is not None
            or not (await self.access.visible(scope, [stored]))
        ):
            raise not_found("Event not found")
        return await self.renderer.render_one(stored, viewer)
