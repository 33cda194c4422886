"""A user of another server in a guild (issue 9, federation): the steward invites them
over federation when they gain read, withdraws the invite when they lose it (their own
server drops it too), and the write gate holds on their own server's copy of the room,
because it is ordinary power levels."""

from __future__ import annotations

from homeserver.api.client.concord_setup import STEWARD_KEY

from ..support.concord import concord, create_guild, membership, power_levels, set_role, set_roles
from ..support.federation import StartFederation
from ..support.matrix_client import User, q
from ..support.waiting import until


async def invited(user: User, room: str) -> bool:
    sync = await user.sync(timeout=0)
    return room in sync.get("rooms", {}).get("invite", {})


async def not_invited(user: User, room: str) -> bool:
    return not await invited(user, room)


async def test_remote_member_gains_and_loses_channels(federation: StartFederation) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    made = await create_guild(alice, "Federated")
    guild = made["room_id"]
    await set_role(alice, guild, "mods", "Mods", 10)
    (await alice.invite(guild, bob.user_id)).ok()
    await until(lambda: invited(bob, guild), "bob invited to the guild")
    (await bob.call("POST", f"/rooms/{q(guild)}/join", {})).ok()

    gated = (await concord(alice, "POST", f"{q(guild)}/channels", {"name": "mods"})).ok()["room_id"]
    news = (await concord(alice, "POST", f"{q(guild)}/channels", {"name": "news"})).ok()["room_id"]
    # Everyone reads a new channel: Bob's server holds his invite to it...
    await until(lambda: invited(bob, gated), "bob invited to the new channel")
    (await alice.put_state(gated, "im.concord.channel_permissions", {"read": ["mods"]})).ok()
    (await alice.put_state(news, "im.concord.channel_permissions", {"write": ["mods"]})).ok()
    # ... until reading needs a role he lacks: the steward's withdrawal reaches B.
    await until(lambda: not_invited(bob, gated), "the withdrawn invite gone from bob's sync")

    # Everyone reads news: the steward invited Bob over federation; he joins through A.
    await until(lambda: invited(bob, news), "bob invited to news")
    (await bob.call("POST", f"/rooms/{q(news)}/join", {})).ok()

    async def gated_on_b() -> bool:
        return bool((await power_levels(bob, news))["events_default"] > 0)

    await until(gated_on_b, "news write-gated on bob's server")
    reply = await bob.call(
        "PUT", f"/rooms/{q(news)}/send/m.room.message/t1", {"msgtype": "m.text", "body": "no"}
    )
    assert reply.status == 403 and reply.errcode == "M_FORBIDDEN"  # refused by B's auth
    assert await membership(alice, gated, bob.user_id) in (None, "leave")

    await set_roles(alice, guild, bob.user_id, ["mods"])
    await until(lambda: invited(bob, gated), "bob invited to mods again")
    (await bob.call("POST", f"/rooms/{q(gated)}/join", {})).ok()

    async def may_write() -> bool:
        return bool((await power_levels(bob, news))["users"].get(bob.user_id, 0) >= 10)

    await until(may_write, "bob's level reached his server")
    await bob.send(news, "now I may")

    await set_roles(alice, guild, bob.user_id, [])

    async def kicked() -> bool:
        return await membership(alice, gated, bob.user_id) == "leave"

    await until(kicked, "bob removed from the mods channel")
    assert a.app[STEWARD_KEY].running
