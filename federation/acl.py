"""Server ACLs applied to requests from other servers.

spec: server-server "Server Access Control Lists (ACLs)" — a request about a room from
a server the room's ``m.room.server_acl`` denies gets 403 ``M_FORBIDDEN``. The rules
are the room's current ACL (``RoomStateCache`` keeps the current state in memory),
compiled once per ACL event: rooms rarely change their ACL and every PDU of a
``/send`` transaction is checked. The rules themselves are
``homeserver.protocol.server_acl``.
"""

from __future__ import annotations

from homeserver.errors import MatrixError
from homeserver.lru import LruCache
from homeserver.protocol.server_acl import AclRules
from homeserver.rooms.room_state import RoomStateCache

ACL_KEY = ("m.room.server_acl", "")


class ServerAcl:
    def __init__(self, rooms: RoomStateCache, max_cached: int = 1024) -> None:
        self.rooms = rooms
        # ACL event id -> its compiled rules (an event never changes).
        self._rules: LruCache[str, AclRules] = LruCache(max_cached)

    async def rules(self, room_id: str) -> AclRules | None:
        """The room's current ACL, None when it has none (or the room is unknown)."""
        info = await self.rooms.room(room_id)
        if info is None:
            return None
        event_id = info.state.get(ACL_KEY)
        if event_id is None:
            return None
        rules = self._rules.get(event_id)
        if rules is None:
            event = (await self.rooms.get_events([event_id])).get(event_id)
            if event is None:
                return None
            rules = AclRules.from_content(event.content)
            self._rules.set(event_id, rules)
        return rules

    async def allowed(self, origin: str, room_id: str) -> bool:
        rules = await self.rules(room_id)
        return rules is None or rules.allows(origin)

    async def check(self, origin: str, room_id: str) -> None:
        """Raise 403 ``M_FORBIDDEN`` when the room's ACL denies ``origin``."""
        if not await self.allowed(origin, room_id):
            raise MatrixError(403, "M_FORBIDDEN", "Server is banned from this room")
