"""Concord guilds as a client drives them: the ``im.concord`` endpoints, guild state
through the ordinary ``/state`` API, and polling for what the steward does."""

from __future__ import annotations

from typing import Any

from homeserver.chat.event_types import member_roles_key
from homeserver.chat.guild import Guild, guild_from_state

from .matrix_client import Reply, User, q
from .waiting import until

CONCORD = "/_matrix/client/unstable/im.concord"
STEWARD = "@concord:test.local"


async def create_guild(user: User, name: str = "Guild", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = (
        await user.call("POST", f"{CONCORD}/guilds", {"name": name, **extra})
    ).ok()
    return body


async def concord(user: User, method: str, path: str, body: Any = None) -> Reply:
    return await user.call(method, f"{CONCORD}/guilds/{path}", body)


async def set_role(
    user: User, guild: str, role_id: str, name: str, position: int, **more: Any
) -> None:
    content = {"name": name, "position": position, **more}
    (await user.put_state(guild, "im.concord.role", content, state_key=role_id)).ok()


async def set_roles(user: User, guild: str, target: str, roles: list[str]) -> None:
    key = member_roles_key(target)
    reply = await user.put_state(guild, "im.concord.member_roles", {"roles": roles}, key)
    reply.ok()


async def membership(user: User, room: str, target: str) -> str | None:
    reply = await user.call("GET", f"/rooms/{q(room)}/state/m.room.member/{q(target)}")
    return reply.body.get("membership") if reply.status == 200 else None


async def wait_membership(user: User, room: str, target: str, wanted: str) -> None:
    async def check() -> bool:
        return await membership(user, room, target) == wanted

    await until(check, f"{target} {wanted} in {room}")


async def power_levels(user: User, room: str) -> dict[str, Any]:
    reply = await user.call("GET", f"/rooms/{q(room)}/state/m.room.power_levels/")
    body: dict[str, Any] = reply.ok()
    return body


async def guild_view(user: User, guild: str) -> Guild:
    """The guild as ``user``'s client reads it: from the space's state."""
    events = (await user.call("GET", f"/rooms/{q(guild)}/state")).ok()
    state = {(e["type"], e["state_key"]): e["content"] for e in events}
    creators = [e["sender"] for e in events if e["type"] == "m.room.create"]
    return guild_from_state(guild, state, creators=creators)


async def joined_rooms(user: User) -> list[str]:
    return list((await user.call("GET", "/joined_rooms")).ok()["joined_rooms"])
