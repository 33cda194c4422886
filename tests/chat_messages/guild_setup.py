"""A Concord guild built with plain Matrix requests (as any client could), for tests
that must not depend on the steward or the guild endpoints: a space, channels linked
both ways (``m.space.child`` / ``m.space.parent``), ``im.concord.role`` and
``im.concord.member_roles`` state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from homeserver.chat.event_types import member_roles_key

from ..support.matrix_client import SERVER, User

ROLE = "im.concord.role"
MEMBER_ROLES = "im.concord.member_roles"


@dataclass
class PlainGuild:
    owner: User
    space: str

    async def add_channel(self, *, link_back: bool = True) -> str:
        channel = await self.owner.create_room(preset="public_chat")
        via = {"via": [SERVER]}
        (await self.owner.put_state(channel, "m.space.parent", via, self.space)).ok()
        if link_back:
            (await self.owner.put_state(self.space, "m.space.child", via, channel)).ok()
        return channel

    async def add_role(self, role_id: str, name: str, position: int, **content: Any) -> None:
        body = {"name": name, "position": position, **content}
        (await self.owner.put_state(self.space, ROLE, body, role_id)).ok()

    async def give_roles(self, user: User, roles: Iterable[str]) -> None:
        body = {"roles": list(roles)}
        key = member_roles_key(user.user_id)
        (await self.owner.put_state(self.space, MEMBER_ROLES, body, key)).ok()

    async def join(self, user: User, *rooms: str) -> None:
        for room in (self.space, *rooms):
            (await user.join(room)).ok()


async def plain_guild(owner: User) -> PlainGuild:
    space = await owner.create_room(
        preset="public_chat", name="Synth Club", creation_content={"type": "m.space"}
    )
    return PlainGuild(owner, space)
