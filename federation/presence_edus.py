"""Presence over federation (spec: server-server "Presence").

Out: when a local user's published presence changes, an ``m.presence`` EDU goes to the
servers sharing a room with them ("servers should only send presence updates for users
that the receiving server would be interested in"). ``busy`` is not a federation state
(the EDU's ``presence`` is online, unavailable or offline): it goes out as ``online``.
In: updates for users of the sending server who share a room with us are stored and
shown to local users sharing a room with them.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from homeserver.ephemeral.presence import MAX_STATUS_MSG, STATES, PresenceHandler
from homeserver.logs import fields
from homeserver.storage.store import Store

from .edus import BadEdu, EduRegistry
from .sender.sender import FederationSender, domain_of

log = logging.getLogger(__name__)

EDU_TYPE = "m.presence"
FEDERATED_STATES = ("online", "unavailable", "offline")


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

    def register(self, registry: EduRegistry) -> None:
        self.presence.listeners.append(self.on_local_presence)
        registry.register(EDU_TYPE, self.on_edu)

    def on_local_presence(
        self, user_id: str, content: dict[str, Any], rooms: Collection[str]
    ) -> None:
        if domain_of(user_id) != self.server_name:
            return
        state = content.get("presence")
        item: dict[str, Any] = {
            "user_id": user_id,
            "presence": state if state in FEDERATED_STATES else "online",
            "last_active_ago": content.get("last_active_ago", 0),
            "currently_active": bool(content.get("currently_active", False)),
        }
        if content.get("status_msg") is not None:
            item["status_msg"] = content["status_msg"]
        self.sender.send_edu_to_rooms(sorted(rooms), EDU_TYPE, {"push": [item]}, key=user_id)

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
