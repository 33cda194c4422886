"""What the steward does and does not touch: leaving the guild ends every channel
membership; a space the steward did not create is not a guild; a public guild is
joined without an invite and its channels follow."""

from __future__ import annotations

import asyncio

from homeserver.api.client.concord_setup import STEWARD_KEY

from ..support.concord import (
    concord,
    create_guild,
    joined_rooms,
    membership,
    power_levels,
    set_role,
    set_roles,
    wait_membership,
)
from ..support.matrix_client import Server, User, q


async def test_leaving_the_guild_leaves_its_channels(alice: User, bob: User) -> None:
    made = await create_guild(alice, "Public", public=True)
    guild = made["room_id"]
    channels = [c["room_id"] for c in made["channels"]]
    (await bob.join(guild)).ok()  # public: no invite needed
    for channel in channels:
        await wait_membership(alice, channel, bob.user_id, "invite")
        (await bob.join(channel)).ok()
    assert sorted(await joined_rooms(bob)) == sorted([guild, *channels])
    # A role shows in the space's power levels: Bob reaches the level of m.space.child.
    await set_role(
        alice, guild, "builders", "Builders", 5, permissions=["kick", "ban", "manage_channels"]
    )
    await set_roles(alice, guild, bob.user_id, ["builders"])

    async def manages_channels() -> bool:
        pl = await power_levels(alice, guild)
        return int(pl["users"].get(bob.user_id, 0)) >= int(pl["events"]["m.space.child"]) > 0

    for _ in range(100):
        if await manages_channels():
            break
        await asyncio.sleep(0.05)
    assert await manages_channels()
    (await bob.leave(guild)).ok()
    for channel in channels:
        await wait_membership(alice, channel, bob.user_id, "leave")
    assert await joined_rooms(bob) == []
    assert bob.user_id not in (await power_levels(alice, guild))["users"]


async def test_spaces_of_others_are_left_alone(server: Server, alice: User, bob: User) -> None:
    space = await alice.create_room(creation_content={"type": "m.space"}, preset="public_chat")
    room = await alice.create_room(preset="public_chat")
    (await alice.put_state(space, "m.space.child", {"via": ["test.local"]}, state_key=room)).ok()
    (await alice.put_state(room, "im.concord.channel_permissions", {"read": ["x"]})).ok()
    (await bob.join(space)).ok()
    (await bob.join(room)).ok()
    await asyncio.sleep(0.3)
    steward = server.app[STEWARD_KEY]
    assert (await steward.reconcile(space)).sent == 0
    assert await membership(alice, room, bob.user_id) == "join"
    assert await membership(alice, room, "@concord:test.local") is None


async def test_another_guild_cannot_take_over_a_channel(
    server: Server, alice: User, carol: User
) -> None:
    """Linking a channel is all another guild's managers can do: its roles never reach
    the channel (the channel's m.space.parent names its own guild), and deleting the
    link from there does not close the room."""
    mine = await create_guild(alice, "Mine")
    secret = (await concord(alice, "POST", f"{q(mine['room_id'])}/channels", {"name": "s"})).ok()
    channel = secret["room_id"]
    (await alice.put_state(channel, "im.concord.channel_permissions", {"read": ["nobody"]})).ok()
    theirs = (await create_guild(carol, "Theirs"))["room_id"]
    link = {"via": ["test.local"], "order": "1"}
    (await carol.put_state(theirs, "m.space.child", link, state_key=channel)).ok()
    result = await server.app[STEWARD_KEY].reconcile(theirs)
    assert channel not in result.channels
    assert await membership(alice, channel, carol.user_id) is None
    (await concord(carol, "DELETE", f"{q(theirs)}/channels/{q(channel)}")).ok()
    assert await membership(alice, channel, alice.user_id) == "join"
    reply = await concord(carol, "PUT", f"{q(theirs)}/channels/{q(channel)}", {"name": "mine"})
    assert (reply.status, reply.errcode) == (404, "M_NOT_FOUND")  # unlinked now
