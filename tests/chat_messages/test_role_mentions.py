"""``@role`` mentions (``im.concord.role_mentions``): our push rules highlight exactly
the members of the mentioned role, as if each were in ``m.mentions.user_ids``, when
the role is mentionable or the sender's roles grant ``mention_roles``."""

from __future__ import annotations

from typing import Any

from homeserver.chat.event_types import member_roles_key

from ..support.matrix_client import User
from .guild_setup import PlainGuild, plain_guild

ROLE_MENTIONS = "im.concord.role_mentions"
GUILDS = "/_matrix/client/unstable/im.concord/guilds"


async def highlighted(user: User) -> list[str]:
    """The bodies of the messages that highlighted ``user``, oldest first."""
    reply = await user.call("GET", "/notifications", params={"only": "highlight"})
    return [n["event"]["content"]["body"] for n in reversed(reply.ok()["notifications"])]


def counts(body: dict[str, Any], room_id: str) -> tuple[int, int]:
    found = body["rooms"]["join"][room_id]["unread_notifications"]
    return found["notification_count"], found["highlight_count"]


async def guild_with_roles(
    alice: User, bob: User, carol: User, dave: User
) -> tuple[PlainGuild, str]:
    guild = await plain_guild(alice)
    await guild.add_role("mods", "Mods", 10, mentionable=True, permissions=["mention_roles"])
    await guild.add_role("members", "Members", 1)  # not mentionable
    channel = await guild.add_channel()
    for user in (bob, carol, dave):
        await guild.join(user, channel)
    await guild.give_roles(bob, ["mods"])
    await guild.give_roles(carol, ["members"])
    await guild.give_roles(dave, ["members"])
    return guild, channel


async def test_mods_mention_highlights_mods_only(
    alice: User, bob: User, carol: User, dave: User
) -> None:
    _, channel = await guild_with_roles(alice, bob, carol, dave)
    since = {u.user_id: (await u.sync())["next_batch"] for u in (alice, bob, dave)}
    await carol.send(channel, "@Mods help", **{ROLE_MENTIONS: ["mods"]})
    assert counts(await bob.sync(since[bob.user_id]), channel) == (1, 1)
    assert counts(await dave.sync(since[dave.user_id]), channel) == (1, 0)
    assert counts(await alice.sync(since[alice.user_id]), channel) == (1, 0)
    assert await highlighted(bob) == ["@Mods help"]
    assert await highlighted(alice) == await highlighted(dave) == []


async def test_unmentionable_role_needs_mention_roles(
    alice: User, bob: User, carol: User, dave: User
) -> None:
    _, channel = await guild_with_roles(alice, bob, carol, dave)
    # Carol (a Member, without mention_roles) cannot reach the unmentionable Members.
    await carol.send(channel, "@Members from carol", **{ROLE_MENTIONS: ["members"]})
    assert await highlighted(dave) == []
    # Bob's Mods role grants mention_roles: the Members are named, and only they.
    await bob.send(channel, "@Members from bob", **{ROLE_MENTIONS: ["members"]})
    assert await highlighted(dave) == ["@Members from bob"]
    assert await highlighted(carol) == ["@Members from bob"]
    assert await highlighted(alice) == []
    # Alice created the guild: she may mention any role.
    await alice.send(channel, "@Members from alice", **{ROLE_MENTIONS: ["members", "nope"]})
    assert await highlighted(dave) == ["@Members from bob", "@Members from alice"]
    assert await highlighted(bob) == []


async def test_roles_follow_member_roles_changes(
    alice: User, bob: User, carol: User, dave: User
) -> None:
    guild, channel = await guild_with_roles(alice, bob, carol, dave)
    await guild.give_roles(dave, ["members", "mods"])
    await guild.give_roles(bob, [])
    await carol.send(channel, "@Mods anyone?", **{ROLE_MENTIONS: ["mods"]})
    assert await highlighted(dave) == ["@Mods anyone?"]
    assert await highlighted(bob) == []


async def test_only_a_channel_the_guild_lists_expands_its_roles(
    alice: User, bob: User, carol: User, dave: User
) -> None:
    """A room that names the guild as parent without the guild listing it back cannot
    use the guild's roles to reach its members."""
    guild, _ = await guild_with_roles(alice, bob, carol, dave)
    stray = await carol.create_room(preset="public_chat")
    via = {"via": ["test.local"]}
    (await carol.put_state(stray, "m.space.parent", via, guild.space)).ok()
    (await bob.join(stray)).ok()
    await carol.send(stray, "@Mods over here", **{ROLE_MENTIONS: ["mods"]})
    assert await highlighted(bob) == []
    # Once the guild lists the room, the same mention reaches the Mods.
    (await alice.put_state(guild.space, "m.space.child", via, stray)).ok()
    await carol.send(stray, "@Mods now?", **{ROLE_MENTIONS: ["mods"]})
    assert await highlighted(bob) == ["@Mods now?"]


async def test_role_mention_in_a_guild_made_by_the_steward(
    alice: User, bob: User, carol: User
) -> None:
    """The steward creates the space (v12: its creator, named in no content); Alice,
    the owner, holds Admin. Bob and Carol get "Mods" (not mentionable)."""
    guild = (await alice.call("POST", GUILDS, {"name": "Steward's", "public": True})).ok()
    space = guild["room_id"]
    (general,) = [c["room_id"] for c in guild["channels"] if c["kind"] == "text"]
    for user in (bob, carol):
        (await user.join(space)).ok()
        (await user.join(general)).ok()
    (await alice.put_state(space, "im.concord.role", {"name": "Mods", "position": 3}, "mods")).ok()
    key = member_roles_key(bob.user_id)
    (await alice.put_state(space, "im.concord.member_roles", {"roles": ["mods"]}, key)).ok()
    # Carol has no mention_roles: nothing. Alice (owner, Admin) reaches Bob only.
    await carol.send(general, "@Mods? (carol)", **{ROLE_MENTIONS: ["mods"]})
    await alice.send(general, "@Mods! (alice)", **{ROLE_MENTIONS: ["mods"]})
    assert await highlighted(bob) == ["@Mods! (alice)"]
    assert await highlighted(carol) == []
