"""A room's current state as plain JSON contents, the input of the pure compiler."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeserver.protocol.events import Event
from homeserver.rooms.room_state import RoomStateCache, StateKey


@dataclass(frozen=True, slots=True)
class RoomSnapshot:
    room_id: str
    create: Event
    state: Mapping[StateKey, Mapping[str, Any]]
    event_ids: Mapping[StateKey, str]
    senders: Mapping[StateKey, str]

    @property
    def creator(self) -> str:
        return self.create.sender

    @property
    def room_type(self) -> object:
        return self.create.content.get("type")

    def content(self, event_type: str, state_key: str = "") -> Mapping[str, Any]:
        return self.state.get((event_type, state_key), {})

    def membership(self, user_id: str) -> str | None:
        value = self.state.get(("m.room.member", user_id), {}).get("membership")
        return value if isinstance(value, str) else None

    def members(self, *memberships: str) -> list[str]:
        """User ids whose membership is one of ``memberships``, sorted."""
        return sorted(
            key
            for (event_type, key), content in self.state.items()
            if event_type == "m.room.member" and content.get("membership") in memberships
        )


async def snapshot(rooms: RoomStateCache, room_id: str) -> RoomSnapshot | None:
    """The room's current state, or None when this server does not hold it."""
    info = await rooms.room(room_id)
    if info is None or ("m.room.create", "") not in info.state:
        return None
    ids = dict(info.state)  # copied: the pipeline replaces entries as events land
    events = await rooms.get_events(list(ids.values()))
    state = {key: events[eid].content for key, eid in ids.items() if eid in events}
    senders = {key: events[eid].sender for key, eid in ids.items() if eid in events}
    create = events.get(ids[("m.room.create", "")])
    if create is None:
        return None
    return RoomSnapshot(room_id, create, state, ids, senders)
