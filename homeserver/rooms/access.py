"""May this user read this room, and which of its events?

The room-level gate of the read endpoints (``/messages``, ``/context``, ``/event``,
``/state``, ``/members``): a current member reads the current state; a user who left
(or was kicked or banned) reads the room as it was when they left; anyone reads a
``world_readable`` room; everyone else gets 403 ``M_FORBIDDEN``. A forgotten room is
as if the user had never been there. Per-event filtering applies
``homeserver.rooms.visibility`` over the user's membership history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from homeserver.errors import MatrixError
from homeserver.storage import room_reads
from homeserver.storage.database import Txn
from homeserver.storage.events_store import StoredEvent
from homeserver.storage.store import Store

from .room_state import RoomStateCache
from .visibility import WORLD_READABLE, EventFacts, History, effective_visibility, event_visible

Pos = tuple[int, int]


@dataclass(frozen=True, slots=True)
class ReadScope:
    room_id: str
    user_id: str
    # The user's current membership (None: never a member, or forgotten).
    membership: str | None
    world_readable: bool
    # When the user left: their leave event; reads see the room as of that event.
    left_event_id: str | None = None

    @property
    def is_joined(self) -> bool:
        return self.membership == "join"


def forbidden(message: str = "You are not a member of this room") -> MatrixError:
    return MatrixError(403, "M_FORBIDDEN", message)


class RoomAccess:
    def __init__(self, store: Store, rooms: RoomStateCache) -> None:
        self.store = store
        self.rooms = rooms

    async def current_membership(self, room_id: str, user_id: str) -> str | None:
        found = await self.rooms.state_events(room_id, [("m.room.member", user_id)])
        event = found.get(("m.room.member", user_id))
        return event.membership if event is not None else None

    async def world_readable(self, room_id: str) -> bool:
        found = await self.rooms.state_events(room_id, [("m.room.history_visibility", "")])
        event = found.get(("m.room.history_visibility", ""))
        value = event.content.get("history_visibility") if event is not None else None
        return effective_visibility(value) == WORLD_READABLE

    async def require_reader(self, user_id: str, room_id: str) -> ReadScope:
        """The user's view of the room, or 403 when they may not read it at all.

        Unknown rooms answer 403 too: a user cannot tell them from rooms they are not in.
        """
        readable = await self.readable_room(room_id)
        return await self.store.db.read(reader_scope, room_id, user_id, readable)

    async def readable_room(self, room_id: str) -> bool:
        """Whether the room is ``world_readable`` (403 for an unknown room); the rest of
        the check is ``reader_scope``, which a handler may run in its own read."""
        info = await self.rooms.room(room_id)
        if info is None:
            raise forbidden()
        return await self.world_readable(room_id)

    async def visible(self, scope: ReadScope, events: Sequence[StoredEvent]) -> list[StoredEvent]:
        """The events of ``scope.room_id`` the user may see, in the given order."""
        if not events:
            return []
        check = await self.checker(scope)
        return [stored for stored in events if check(stored)]

    async def checker(self, scope: ReadScope) -> Callable[[StoredEvent], bool]:
        """A visibility predicate for ``scope`` with the histories loaded once."""
        return await self.store.db.read(visibility_checker, scope.room_id, scope.user_id)


def reader_scope(txn: Txn, room_id: str, user_id: str, world_readable: bool) -> ReadScope:
    """The user's view of a known room (see ``RoomAccess.require_reader``), from their
    local membership; 403 when they may not read it."""
    row = room_reads.local_membership(txn, user_id, room_id)
    membership: str | None = None
    left_event: str | None = None
    if row is not None and not row[2]:
        membership, event_id, _ = row
        if membership in ("leave", "ban"):
            left_event = event_id
    if membership == "join" or world_readable:
        return ReadScope(room_id, user_id, membership, world_readable, None)
    if left_event is not None:
        return ReadScope(room_id, user_id, membership, world_readable, left_event)
    raise forbidden()


def visibility_checker(txn: Txn, room_id: str, user_id: str) -> Callable[[StoredEvent], bool]:
    """Which events of the room the user may see (spec: "Room History Visibility"), from
    the user's membership history and the room's history visibility history."""
    return visibility_checkers(txn, [room_id], user_id)[room_id]


def visibility_checkers(
    txn: Txn, room_ids: Sequence[str], user_id: str
) -> dict[str, Callable[[StoredEvent], bool]]:
    """``visibility_checker`` for many rooms, with one query for all of them."""
    if not room_ids:
        return {}
    member, visibility = ("m.room.member", user_id), ("m.room.history_visibility", "")
    histories = room_reads.state_histories(txn, room_ids, [member, visibility])
    return {
        room_id: _checker(user_id, histories[(room_id, member)], histories[(room_id, visibility)])
        for room_id in room_ids
    }


def _checker(
    user_id: str, members: Sequence[StoredEvent], visibility: Sequence[StoredEvent]
) -> Callable[[StoredEvent], bool]:
    memberships = History(((s.event.depth, s.stream_ordering), s.event.membership) for s in members)
    visibilities = History(
        (
            (s.event.depth, s.stream_ordering),
            effective_visibility(s.event.content.get("history_visibility")),
        )
        for s in visibility
    )

    def check(stored: StoredEvent) -> bool:
        event = stored.event
        facts = EventFacts(
            pos=(event.depth, stored.stream_ordering),
            is_visibility_change=event.type == "m.room.history_visibility"
            and event.state_key == "",
            is_own_membership=event.type == "m.room.member" and event.state_key == user_id,
        )
        return event_visible(facts, memberships, visibilities)

    return check
