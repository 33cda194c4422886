"""Creating and deleting a guild: one user action that spans several rooms.

Each step is an ordinary Matrix request (createRoom, state events, invites, joins,
kicks) through the normal pipeline, so other servers and clients see nothing special.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from homeserver.chat.event_types import (
    ADMIN_ROLE_ID,
    ADMIN_ROLE_NAME,
    ADMIN_ROLE_POSITION,
    ADMINISTRATOR,
    CATEGORY,
    MEMBER_ROLES,
    OWNER_FIELD,
    ROLE,
    SPACE_CHILD,
    member_roles_key,
)
from homeserver.errors import MatrixError
from homeserver.logs import fields
from homeserver.rooms.creation import CreateRoomRequest

from .context import GuildDeps, LoadedGuild, next_order
from .reconcile import SPACE_TYPE
from .snapshot import snapshot

log = logging.getLogger(__name__)

# The categories and channels a new guild starts with (issue 9).
DEFAULT_CATEGORIES = (("text", "Text", 0), ("voice", "Voice", 1))
DEFAULT_CHANNELS = (("general", "text", False), ("General", "voice", True))


@dataclass(frozen=True, slots=True)
class NewGuild:
    name: str
    topic: str | None = None
    avatar_url: str | None = None
    public: bool = False


def channel_json(room_id: str, name: str, voice: bool, category: str | None) -> dict[str, Any]:
    return {
        "room_id": room_id,
        "name": name,
        "kind": "voice" if voice else "text",
        "category": category,
    }


class GuildActions:
    def __init__(self, deps: GuildDeps) -> None:
        self.deps = deps

    async def create(self, requester: str, new: NewGuild) -> dict[str, Any]:
        """The space (steward creator, requester the owner holding the Admin role),
        default categories and channels; the requester is joined to all on return."""
        deps = self.deps
        initial: list[tuple[str, str, dict[str, Any]]] = [
            (
                ROLE,
                ADMIN_ROLE_ID,
                {
                    "name": ADMIN_ROLE_NAME,
                    "position": ADMIN_ROLE_POSITION,
                    "permissions": [ADMINISTRATOR],
                },
            ),
            (MEMBER_ROLES, member_roles_key(requester), {"roles": [ADMIN_ROLE_ID]}),
        ]
        for category_id, name, order in DEFAULT_CATEGORIES:
            initial.append((CATEGORY, category_id, {"name": name, "order": order}))
        if new.avatar_url is not None:
            initial.append(("m.room.avatar", "", {"url": new.avatar_url}))
        request = CreateRoomRequest(
            name=new.name,
            topic=new.topic,
            preset="public_chat" if new.public else "private_chat",
            creation_content={"type": SPACE_TYPE, OWNER_FIELD: requester},
            initial_state=initial,
            invite=[requester],
        )
        guild_id = await deps.creator.create_room(deps.steward_id, request)
        await deps.membership.join(requester, guild_id)
        loaded = await deps.reconciler.load_guild(guild_id)
        assert loaded is not None, "the steward just created this guild"
        current = LoadedGuild(*loaded)
        channels = []
        for name, category, voice in DEFAULT_CHANNELS:
            room_id = await deps.create_channel(
                current,
                name=name,
                voice=voice,
                category=category,
                topic=None,
                order=next_order(current.guild, category),
            )
            channels.append(channel_json(room_id, name, voice, category))
        await deps.steward.reconcile(guild_id)  # space levels; the owner invited in
        for channel in channels:
            await deps.membership.join(requester, channel["room_id"])
        log.info("guild created", extra=fields(room_id=guild_id, owner=requester))
        return {"room_id": guild_id, "channels": channels}

    async def delete(self, requester: str, guild_id: str) -> None:
        """Remove every member from every channel and the space, unlink the channels,
        close the rooms (join rule invite) and let the steward leave them: the guild is
        gone from everyone's room list and the steward never steers it again."""
        deps = self.deps
        loaded = await deps.load(guild_id, requester, ADMINISTRATOR)
        async with deps.steward.lock:
            deps.steward.forget(guild_id)
            for link in loaded.guild.channels.values():
                channel = await snapshot(deps.rooms, link.room_id)
                await deps.send_state(guild_id, SPACE_CHILD, link.room_id, {})
                if channel is not None and channel.creator == deps.steward_id:
                    await self.close_room(channel.room_id)
            await self.close_room(guild_id)
        log.info("guild deleted", extra=fields(room_id=guild_id, by=requester))

    async def close_room(self, room_id: str) -> None:
        deps = self.deps
        room = await snapshot(deps.rooms, room_id)
        if room is None or room.membership(deps.steward_id) != "join":
            return
        if room.content("m.room.join_rules").get("join_rule") != "invite":
            await deps.send_state(room_id, "m.room.join_rules", "", {"join_rule": "invite"})
        for user in room.members("join", "invite", "knock"):
            if user == deps.steward_id:
                continue
            try:
                await deps.membership.kick(deps.steward_id, room_id, user, reason="Guild deleted")
            except MatrixError as exc:
                log.warning(
                    "guild deletion: kick refused",
                    extra=fields(room_id=room_id, user_id=user, error=exc.message),
                )
        await deps.membership.leave(deps.steward_id, room_id)
