"""What the ``im.concord`` actions share: their dependencies, loading a guild with the
requester's permission checked, and building a channel room.

The steward creates every guild room (issue 9, shared decisions): as the v12 room
creator it outranks everyone, so it can always apply compiled power levels and kick.
Edits are sent by the steward too, after the requester's Concord permission was
checked: the decision is Concord's (``homeserver.chat.guild.permissions_of``), and a
permission given a moment ago works before the compiled power levels catch up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeserver.chat.event_types import (
    CHILD_CATEGORY_FIELD,
    SPACE_CHILD,
    SPACE_PARENT,
    VOICE_ROOM_TYPE,
)
from homeserver.chat.guild import Guild, permissions_of
from homeserver.errors import forbidden, not_found
from homeserver.rooms.creation import CreateRoomRequest, RoomCreator, default_power_levels
from homeserver.rooms.membership import MembershipHandler
from homeserver.rooms.pipeline import EventPipeline
from homeserver.rooms.room_state import RoomStateCache

from .reconcile import Reconciler, join_rules_content
from .service import Steward
from .snapshot import RoomSnapshot

# Width of generated m.space.child orders: "00000100" sorts as a number would.
ORDER_WIDTH = 8
ORDER_STEP = 100


@dataclass(frozen=True, slots=True)
class LoadedGuild:
    space: RoomSnapshot
    guild: Guild

    @property
    def room_id(self) -> str:
        return self.space.room_id


@dataclass
class GuildDeps:
    rooms: RoomStateCache
    pipeline: EventPipeline
    membership: MembershipHandler
    creator: RoomCreator
    steward: Steward
    reconciler: Reconciler

    @property
    def steward_id(self) -> str:
        return self.reconciler.steward

    @property
    def server_name(self) -> str:
        return self.pipeline.server_name

    async def load(self, guild_id: str, requester: str, permission: str) -> LoadedGuild:
        """The guild, if ``requester`` holds ``permission`` in it: 404 for a room that is
        not a guild, 403 without the permission (a non-member holds none)."""
        loaded = await self.reconciler.load_guild(guild_id)
        if loaded is None:
            raise not_found("Unknown guild")
        space, guild = loaded
        if permission not in permissions_of(guild, requester):
            raise forbidden(f"You need the {permission} permission in this guild")
        return LoadedGuild(space, guild)

    async def send_state(
        self, room_id: str, event_type: str, state_key: str, content: Mapping[str, Any]
    ) -> str:
        sent = await self.pipeline.send(
            room_id, self.steward_id, event_type, dict(content), state_key=state_key
        )
        return sent.event.event_id

    async def create_channel(
        self,
        loaded: LoadedGuild,
        *,
        name: str,
        voice: bool,
        category: str | None,
        topic: str | None,
        order: str,
    ) -> str:
        """Create a channel room (steward creator) with its compiled power levels and
        join rule from the start, and link it into the guild both ways."""
        steward, guild = self.steward_id, loaded.guild
        request = CreateRoomRequest(name=name, topic=topic, preset="private_chat")
        if voice:
            request.creation_content = {"type": VOICE_ROOM_TYPE}
        base = default_power_levels(request.room_version, steward, "private_chat", [])
        plan = self.reconciler.plan_for(guild, {}, base, is_voice=voice)
        request.power_level_content_override = plan.power_levels
        request.initial_state = [
            # spec: client-server "Spaces" — the child names its parent, canonical.
            (SPACE_PARENT, guild.room_id, {"via": [self.server_name], "canonical": True}),
            ("m.room.join_rules", "", join_rules_content(plan)),
        ]
        room_id = await self.creator.create_room(steward, request)
        child: dict[str, Any] = {"via": [self.server_name], "order": order}
        if category is not None:
            child[CHILD_CATEGORY_FIELD] = category
        await self.send_state(guild.room_id, SPACE_CHILD, room_id, child)
        return room_id


def next_order(guild: Guild, category: str | None) -> str:
    """An m.space.child order after every channel of ``category``."""
    highest = -1
    for link in guild.channels.values():
        if link.category == category and link.order is not None and link.order.isdigit():
            highest = max(highest, int(link.order))
    value = (max(highest, 0) // ORDER_STEP + 1) * ORDER_STEP  # the first is 100: room before it
    return str(value).zfill(ORDER_WIDTH)
