"""Presence over federation (spec: server-server "Presence").

Out: when a local user's published presence changes, an ``m.presence`` EDU goes to the
servers sharing a room with them ("servers should only send presence updates for users
that the receiving server would be interested in"). ``busy`` is not a federation state
(the EDU's ``presence`` is online, unavailable or offline): it goes out as ``online``.
In: updates for users of the sending server who share a room with us are stored and
shown to local users sharing a room with them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from typing import Any

from homeserver.ephemeral.presence import MAX_STATUS_MSG, STATES, PresenceHandler
from homeserver.logs import fields
from homeserver.rooms.bus import EventBus, PersistedEvent
from homeserver.storage.store import Store

from .edus import BadEdu, EduRegistry
from .sender.sender import FederationSender, domain_of

log = logging.getLogger(__name__)

EDU_TYPE = "m.presence"
FEDERATED_STATES = ("online", "unavailable", "offline")
# How long after a remote join we send that server our members' presence.
JOIN_PRESENCE_DELAY_S = 1.0


def _item(user_id: str, content: dict[str, Any]) -> dict[str, Any]:
    """A user's presence as the federation EDU carries it."""
    state = content.get("presence")
    item: dict[str, Any] = {
        "user_id": user_id,
        "presence": state if state in FEDERATED_STATES else "online",
        "last_active_ago": content.get("last_active_ago", 0),
        "currently_active": bool(content.get("currently_active", False)),
    }
    if content.get("status_msg") is not None:
        item["status_msg"] = content["status_msg"]
    return item


class PresenceFederation:
    def __init__(
        self,
        sender: FederationSender,
        presence: PresenceHandler,
        store: Store,
        server_name: str,
    ) -> None:
        self.sender = sender
        self.presence = presence
        self.store = store
        self.server_name = server_name
        self._tasks: set[asyncio.Task[None]] = set()

    def register(self, registry: EduRegistry, bus: EventBus | None = None) -> None:
        self.presence.listeners.append(self.on_local_presence)
        registry.register(EDU_TYPE, self.on_edu)
        if bus is not None:
            bus.subscribe(self.on_event)

    def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def on_local_presence(
        self, user_id: str, content: dict[str, Any], rooms: Collection[str]
    ) -> None:
        if domain_of(user_id) != self.server_name:
            return
        item = _item(user_id, content)
        self.sender.send_edu_to_rooms(sorted(rooms), EDU_TYPE, {"push": [item]}, key=user_id)

    def on_event(self, item: PersistedEvent) -> None:
        """A join brings servers together that may know nothing of each other's users:
        a remote user's join gets their server our members' presence, and a local
        user's join gets that user's presence to the room's other servers."""
        event = item.event
        if (
            not item.live
            or event.type != "m.room.member"
            or event.membership != "join"
            or not event.state_key
        ):
            return
        task = asyncio.ensure_future(self._after_join(event.room_id, event.state_key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _after_join(self, room_id: str, user_id: str) -> None:
        try:
            if domain_of(user_id) == self.server_name:
                servers = await self.sender.servers_in_room(room_id)
                if servers:
                    item = _item(user_id, await self.presence.status(user_id))
                    for server in sorted(servers):
                        self.sender.send_edu(server, EDU_TYPE, {"push": [item]}, key=user_id)
                return
            # The joining server is still storing the room when its join reaches us
            # (send_join answers after we persist the join): updates for a room it does
            # not hold yet would be dropped there.
            await asyncio.sleep(JOIN_PRESENCE_DELAY_S)
            members = await self.store.state.joined_members(room_id)
            ours = [m for m in members if domain_of(m) == self.server_name]
            items = [_item(m, await self.presence.status(m)) for m in ours]
            items = [i for i in items if i["presence"] != "offline"]
            if items:
                self.sender.send_edu(domain_of(user_id), EDU_TYPE, {"push": items})
        except Exception:  # a presence courtesy must never hurt anything else
            log.exception("presence after a join failed", extra=fields(room_id=room_id))

    async def on_edu(self, origin: str, content: dict[str, Any]) -> None:
        push = content.get("push")
        if not isinstance(push, list):
            raise BadEdu("`push` must be a list")
        for item in push:
            try:
                await self._apply(origin, item)
            except BadEdu as exc:
                log.info("presence update dropped", extra=fields(origin=origin, reason=str(exc)))

    async def _apply(self, origin: str, item: object) -> None:
        if not isinstance(item, dict):
            raise BadEdu("a presence update must be an object")
        user_id = item.get("user_id")
        if not isinstance(user_id, str) or domain_of(user_id) != origin:
            raise BadEdu(f"{user_id!r} is not a user of {origin}")
        state = item.get("presence")
        if state not in STATES:
            raise BadEdu(f"unknown presence {state!r}")
        ago = item.get("last_active_ago", 0)
        if not isinstance(ago, int) or isinstance(ago, bool):
            raise BadEdu("`last_active_ago` must be an integer")
        status_msg = item.get("status_msg")
        if status_msg is not None and (
            not isinstance(status_msg, str) or len(status_msg) > MAX_STATUS_MSG
        ):
            raise BadEdu("`status_msg` must be a string of reasonable length")
        active = item.get("currently_active", False)
        if not isinstance(active, bool):
            raise BadEdu("`currently_active` must be a boolean")
        rooms = await self.store.federation_sender.joined_rooms_of(user_id)
        if not rooms:
            raise BadEdu(f"{user_id} shares no room with us")
        await self.presence.apply_remote(user_id, str(state), status_msg, ago, active, rooms)
