"""Channel permissions end to end through the HTTP API (issue 9): a guild made with the
im.concord endpoint, roles and member roles sent as ordinary state by the admin, and
the steward turning them into invites, kicks and power levels that the Matrix auth
rules enforce."""

from __future__ import annotations

from ...support.concord import (
    STEWARD,
    concord,
    create_guild,
    joined_rooms,
    membership,
    power_levels,
    set_role,
    set_roles,
    wait_membership,
)
from ...support.matrix_client import User, q
from ...support.waiting import until


async def guild_with_members(alice: User, bob: User) -> tuple[str, dict[str, str]]:
    """Alice's guild with roles Mods and Members; Bob joined with Members."""
    made = await create_guild(alice, "Guild", topic="A test guild")
    guild = made["room_id"]
    channels = {c["name"]: c["room_id"] for c in made["channels"]}
    assert set(channels) == {"general", "General"}
    await set_role(alice, guild, "mods", "Mods", 10, permissions=["delete_messages"])
    await set_role(alice, guild, "members", "Members", 1)
    (await alice.invite(guild, bob.user_id)).ok()
    (await bob.join(guild)).ok()
    await set_roles(alice, guild, bob.user_id, ["members"])
    return guild, channels


async def test_guild_creation(alice: User, bob: User) -> None:
    made = await create_guild(alice, "Guild", topic="About")
    guild = made["room_id"]
    kinds = {c["name"]: (c["kind"], c["category"]) for c in made["channels"]}
    assert kinds == {"general": ("text", "text"), "General": ("voice", "voice")}
    assert sorted(await joined_rooms(alice)) == sorted(
        [guild, *(c["room_id"] for c in made["channels"])]
    )
    create = (await alice.call("GET", f"/rooms/{q(guild)}/state/m.room.create/")).ok()
    assert create["type"] == "m.space"
    events = (await alice.call("GET", f"/rooms/{q(guild)}/state")).ok()
    assert next(e for e in events if e["type"] == "m.room.create")["sender"] == STEWARD
    roles = {e["state_key"]: e["content"] for e in events if e["type"] == "im.concord.role"}
    assert roles["admin"]["permissions"] == ["administrator"]
    mine = next(e for e in events if e["type"] == "im.concord.member_roles")
    assert mine["state_key"] == alice.user_id[1:] and mine["content"] == {"roles": ["admin"]}
    voice = next(c["room_id"] for c in made["channels"] if c["kind"] == "voice")
    vcreate = (await alice.call("GET", f"/rooms/{q(voice)}/state/m.room.create/")).ok()
    assert vcreate["type"] == "im.concord.voice"
    levels = await power_levels(alice, voice)
    assert levels["events"]["org.matrix.msc3401.call.member"] == 0
    assert levels["users"] == {alice.user_id: 100}
    parent = await alice.call("GET", f"/rooms/{q(voice)}/state/m.space.parent/{q(guild)}")
    assert parent.ok()["canonical"] is True
    # Bob is no member: he cannot read a channel and is not in any.
    assert await membership(alice, voice, bob.user_id) is None
    assert (await bob.messages(voice, dir="b")).status == 403


async def channel_with(
    alice: User, guild: str, name: str, permissions: dict[str, list[str]]
) -> str:
    """A new text channel of Alice's guild with ``permissions``, once the steward has
    applied them (its power levels follow the new permissions)."""
    made = (await concord(alice, "POST", f"{q(guild)}/channels", {"name": name})).ok()
    channel = str(made["room_id"])
    reply = await alice.put_state(channel, "im.concord.channel_permissions", permissions)
    reply.ok()
    if "read" in permissions:

        async def closed() -> bool:
            rules = await alice.call("GET", f"/rooms/{q(channel)}/state/m.room.join_rules/")
            return bool(rules.ok()["join_rule"] == "invite")

        await until(closed, f"{name} invite-only")
    if "write" in permissions:

        async def gated() -> bool:
            return bool((await power_levels(alice, channel))["events_default"] > 0)

        await until(gated, f"{name} write-gated")
    return channel


async def visible_to(user: User, room: str) -> list[str]:
    """The messages ``user`` can page through in ``room`` (none when refused)."""
    reply = await user.messages(room, dir="b", limit=100)
    if reply.status == 403:
        return []
    chunk = reply.ok()["chunk"]
    return [e["event_id"] for e in chunk if e["type"] == "m.room.message"]


async def check_read_gated_channel(alice: User, bob: User, guild: str) -> None:
    secret = await channel_with(alice, guild, "mods-only", {"read": ["mods"]})
    # A Member can neither join nor read it (the invite every member got while the
    # channel was open to all was withdrawn).
    await wait_membership(alice, secret, bob.user_id, "leave")
    reply = await bob.join(secret)
    assert reply.status == 403 and reply.errcode == "M_FORBIDDEN"
    hidden = await alice.send(secret, "mods only")
    assert await visible_to(bob, secret) == []
    assert hidden in await visible_to(alice, secret)
    # Gaining Mods: the steward invites him; he joins and reads.
    await set_roles(alice, guild, bob.user_id, ["members", "mods"])
    await wait_membership(alice, secret, bob.user_id, "invite")
    (await bob.join(secret)).ok()
    event_id = await alice.send(secret, "for mods")
    chunk = (await bob.messages(secret, dir="b")).ok()["chunk"]
    assert event_id in [e["event_id"] for e in chunk]
    # Losing it: kicked by the steward, and reading is over.
    await set_roles(alice, guild, bob.user_id, ["members"])
    await wait_membership(alice, secret, bob.user_id, "leave")
    kick = (
        await alice.call(
            "GET",
            f"/rooms/{q(secret)}/state/m.room.member/{q(bob.user_id)}",
            params={"format": "event"},
        )
    ).ok()
    assert kick["sender"] == STEWARD
    reply = await bob.join(secret)
    assert reply.status == 403
    later = await alice.send(secret, "after bob left")
    assert later not in await visible_to(bob, secret)


async def check_write_gated_channel(alice: User, bob: User, guild: str) -> None:
    news = await channel_with(alice, guild, "announcements", {"write": ["mods"]})
    # Everyone reads (restricted to the guild): Bob joins himself.
    (await bob.join(news)).ok()
    reply = await bob.call(
        "PUT", f"/rooms/{q(news)}/send/m.room.message/w1", {"msgtype": "m.text", "body": "x"}
    )
    assert reply.status == 403 and reply.errcode == "M_FORBIDDEN"
    await alice.send(news, "news")  # the Admin can
    await set_roles(alice, guild, bob.user_id, ["members", "mods"])

    async def promoted() -> bool:
        return bool((await power_levels(alice, news))["users"].get(bob.user_id, 0) >= 10)

    await until(promoted, "bob may write")
    await bob.send(news, "now I can")
    await set_roles(alice, guild, bob.user_id, ["members"])


async def check_edit_description(alice: User, bob: User, guild: str, general: str) -> None:
    topic = {"topic": "mine"}
    (
        await alice.put_state(
            general, "im.concord.channel_permissions", {"edit_description": ["mods"]}
        )
    ).ok()

    async def gated() -> bool:
        return bool((await power_levels(alice, general))["events"]["m.room.topic"] > 0)

    await until(gated, "topic gated")
    await wait_membership(alice, general, bob.user_id, "invite")
    (await bob.join(general)).ok()
    reply = await bob.put_state(general, "m.room.topic", topic)
    assert reply.status == 403 and reply.errcode == "M_FORBIDDEN"
    await set_roles(alice, guild, bob.user_id, ["members", "mods"])

    async def allowed() -> bool:
        return (await bob.put_state(general, "m.room.topic", topic)).status == 200

    await until(allowed, "bob may edit the description")


async def test_channel_permissions(alice: User, bob: User) -> None:
    guild, channels = await guild_with_members(alice, bob)
    await check_read_gated_channel(alice, bob, guild)
    await check_write_gated_channel(alice, bob, guild)
    await check_edit_description(alice, bob, guild, channels["general"])
