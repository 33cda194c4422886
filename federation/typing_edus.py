"""Typing notifications over federation (spec: server-server "Typing Notifications").

Out: a local user starting, refreshing or stopping typing (or timing out) becomes an
``m.typing`` EDU for the other servers in the room. In: applied only when the user
belongs to the sending server and is joined to the room, as the spec asks.
"""

from __future__ import annotations

from typing import Any

from homeserver.ephemeral.typing import TypingTracker
from homeserver.rooms.room_state import RoomStateCache

from .edus import BadEdu, EduRegistry
from .sender.sender import FederationSender, domain_of

EDU_TYPE = "m.typing"
# How long a remote user shows as typing without a refresh: their server re-sends while
# they type and says when they stop, so this only bounds a lost "stopped".
REMOTE_TIMEOUT_MS = 60_000


async def is_joined(rooms: RoomStateCache, room_id: str, user_id: str) -> bool:
    found = await rooms.state_events(room_id, [("m.room.member", user_id)])
    event = found.get(("m.room.member", user_id))
    return event is not None and event.membership == "join"


class TypingFederation:
    def __init__(
        self,
        sender: FederationSender,
        tracker: TypingTracker,
        rooms: RoomStateCache,
        server_name: str,
    ) -> None:
        self.sender = sender
        self.tracker = tracker
        self.rooms = rooms
        self.server_name = server_name

    def register(self, registry: EduRegistry) -> None:
        self.tracker.listeners.append(self.on_local_typing)
        registry.register(EDU_TYPE, self.on_edu)

    def on_local_typing(self, room_id: str, user_id: str, typing: bool, timeout_ms: int) -> None:
        if domain_of(user_id) != self.server_name:
            return  # a remote user's typing, applied here: their server told the others
        content = {"room_id": room_id, "user_id": user_id, "typing": typing}
        self.sender.send_edu_to_rooms([room_id], EDU_TYPE, content, key=(room_id, user_id))

    async def on_edu(self, origin: str, content: dict[str, Any]) -> None:
        room_id = content.get("room_id")
        user_id = content.get("user_id")
        typing = content.get("typing")
        if not isinstance(room_id, str) or not isinstance(user_id, str):
            raise BadEdu("`room_id` and `user_id` must be strings")
        if not isinstance(typing, bool):
            raise BadEdu("`typing` must be a boolean")
        if domain_of(user_id) != origin:
            raise BadEdu(f"{user_id} is not a user of {origin}")
        if not await is_joined(self.rooms, room_id, user_id):
            raise BadEdu(f"{user_id} is not joined to {room_id}")
        self.tracker.set_typing(room_id, user_id, typing, REMOTE_TIMEOUT_MS)
