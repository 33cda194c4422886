"""Channels and categories through the im.concord endpoints (issue 9): moving a category
reorders its channels for every member, refused requests change nothing, deleting a
channel or the guild removes everyone."""

from __future__ import annotations

from typing import Any

from homeserver.chat.guild import channel_order

from ...support.concord import (
    concord,
    create_guild,
    guild_view,
    joined_rooms,
    membership,
    set_role,
    set_roles,
    wait_membership,
)
from ...support.matrix_client import User, q


async def space_state(user: User, guild: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = (await user.call("GET", f"/rooms/{q(guild)}/state")).ok()
    return sorted(events, key=lambda e: (e["type"], e["state_key"]))


async def member_guild(alice: User, bob: User) -> dict[str, Any]:
    made = await create_guild(alice, "Layout")
    guild = made["room_id"]
    (await alice.invite(guild, bob.user_id)).ok()
    (await bob.join(guild)).ok()
    return made


async def check_category_move_reorders_for_everyone(
    alice: User, bob: User, made: dict[str, Any]
) -> None:
    guild = made["room_id"]
    text, voice = (c["room_id"] for c in made["channels"])
    assert channel_order(await guild_view(bob, guild)) == [text, voice]
    extra = (
        await concord(alice, "POST", f"{q(guild)}/channels", {"name": "more", "category": "text"})
    ).ok()
    assert extra["category"] == "text" and extra["kind"] == "text"
    assert channel_order(await guild_view(bob, guild)) == [text, extra["room_id"], voice]
    # One event moves the Text category (and both its channels) below Voice.
    before = len(await space_state(bob, guild))
    (await concord(alice, "PUT", f"{q(guild)}/categories/text", {"order": 5})).ok()
    view = await guild_view(bob, guild)
    assert view.categories["text"].order == 5
    assert channel_order(view) == [voice, text, extra["room_id"]]
    assert len(await space_state(bob, guild)) == before  # a changed event, no new one
    # A channel moved within and across categories; renamed.
    (
        await concord(
            alice, "PUT", f"{q(guild)}/channels/{q(extra['room_id'])}", {"order": "00000050"}
        )
    ).ok()
    assert channel_order(await guild_view(bob, guild)) == [voice, extra["room_id"], text]
    body = {"category": "voice", "name": "moved"}
    (await concord(alice, "PUT", f"{q(guild)}/channels/{q(extra['room_id'])}", body)).ok()
    view = await guild_view(bob, guild)
    assert view.channels[extra["room_id"]].category == "voice"
    assert channel_order(view) == [voice, extra["room_id"], text]
    name = await alice.call("GET", f"/rooms/{q(extra['room_id'])}/state/m.room.name/")
    assert name.ok()["name"] == "moved"
    # A new category; deleting it leaves its channels without one.
    made_cat = (await concord(alice, "POST", f"{q(guild)}/categories", {"name": "Extra"})).ok()
    cat = made_cat["category_id"]
    assert made_cat["order"] == 6
    (await concord(alice, "PUT", f"{q(guild)}/channels/{q(text)}", {"category": cat})).ok()
    assert (await guild_view(bob, guild)).channels[text].category == cat
    (await concord(alice, "DELETE", f"{q(guild)}/categories/{cat}")).ok()
    view = await guild_view(bob, guild)
    assert cat not in view.categories and view.channels[text].category is None
    assert channel_order(view)[0] == text  # uncategorised channels come first


async def check_refusals_change_nothing(alice: User, bob: User, made: dict[str, Any]) -> None:
    guild = made["room_id"]
    text = made["channels"][0]["room_id"]
    before = await space_state(alice, guild)
    cases: list[tuple[User, str, str, Any, int, str]] = [
        (bob, "POST", f"{q(guild)}/channels", {"name": "nope"}, 403, "M_FORBIDDEN"),
        (bob, "PUT", f"{q(guild)}/categories/text", {"order": 9}, 403, "M_FORBIDDEN"),
        (bob, "DELETE", f"{q(guild)}/channels/{q(text)}", None, 403, "M_FORBIDDEN"),
        (bob, "DELETE", q(guild), None, 403, "M_FORBIDDEN"),
        (alice, "POST", f"{q(guild)}/channels", {}, 400, "M_BAD_JSON"),
        (alice, "POST", f"{q(guild)}/channels", {"name": 5}, 400, "M_BAD_JSON"),
        (
            alice,
            "POST",
            f"{q(guild)}/channels",
            {"name": "x", "kind": "video"},
            400,
            "M_INVALID_PARAM",
        ),
        (
            alice,
            "POST",
            f"{q(guild)}/channels",
            {"name": "x", "category": "nope"},
            400,
            "M_INVALID_PARAM",
        ),
        (alice, "POST", f"{q(guild)}/channels", {"name": "   "}, 400, "M_INVALID_PARAM"),
        (alice, "PUT", f"{q(guild)}/channels/{q(text)}", {"order": "\u00e9"}, 400, "M_BAD_JSON"),
        (
            alice,
            "PUT",
            f"{q(guild)}/channels/{q(text)}",
            {"category": "nope", "name": "y"},
            400,
            "M_INVALID_PARAM",
        ),
        (alice, "PUT", f"{q(guild)}/categories/text", {"order": -1}, 400, "M_BAD_JSON"),
        (alice, "PUT", f"{q(guild)}/categories/text", {"order": "1"}, 400, "M_BAD_JSON"),
        (alice, "PUT", f"{q(guild)}/categories/nope", {"order": 1}, 404, "M_NOT_FOUND"),
        (alice, "DELETE", f"{q(guild)}/categories/nope", None, 404, "M_NOT_FOUND"),
        (
            alice,
            "PUT",
            f"{q(guild)}/channels/{q('!other:test.local')}",
            {"order": "1"},
            404,
            "M_NOT_FOUND",
        ),
        (alice, "DELETE", f"{q('!nope:test.local')}", None, 404, "M_NOT_FOUND"),
        (alice, "POST", f"{q(text)}/channels", {"name": "x"}, 404, "M_NOT_FOUND"),  # not a guild
        (alice, "POST", "not-a-room/channels", {"name": "x"}, 400, "M_INVALID_PARAM"),
    ]
    for user, method, path, body, status, errcode in cases:
        reply = await concord(user, method, path, body)
        assert (reply.status, reply.errcode) == (status, errcode), (method, path, body, reply)
    reply = await alice.call("POST", "/_matrix/client/unstable/im.concord/guilds", {"name": ""})
    assert reply.status == 400
    reply = await alice.call(
        "POST",
        "/_matrix/client/unstable/im.concord/guilds",
        {"name": "x", "avatar_url": "http://x"},
    )
    assert (reply.status, reply.errcode) == (400, "M_INVALID_PARAM")
    assert await space_state(alice, guild) == before


async def check_manage_channels_role(alice: User, bob: User, made: dict[str, Any]) -> None:
    """A role with manage_channels may create channels (and is joined to them)."""
    guild = made["room_id"]
    await set_role(alice, guild, "builders", "Builders", 20, permissions=["manage_channels"])
    await set_roles(alice, guild, bob.user_id, ["builders"])
    made_channel = (
        await concord(bob, "POST", f"{q(guild)}/channels", {"name": "bobs", "kind": "voice"})
    ).ok()
    assert made_channel["kind"] == "voice"
    assert made_channel["room_id"] in await joined_rooms(bob)
    await set_roles(alice, guild, bob.user_id, [])
    reply = await concord(bob, "POST", f"{q(guild)}/channels", {"name": "again"})
    assert reply.status == 403


async def check_delete_channel_and_guild(alice: User, bob: User, made: dict[str, Any]) -> None:
    guild = made["room_id"]
    text = made["channels"][0]["room_id"]
    await wait_membership(alice, text, bob.user_id, "invite")
    (await bob.join(text)).ok()
    (await concord(alice, "DELETE", f"{q(guild)}/channels/{q(text)}")).ok()
    assert text not in (await guild_view(bob, guild)).channels
    assert await membership(alice, text, bob.user_id) is None or text not in await joined_rooms(bob)
    assert text not in await joined_rooms(alice) and text not in await joined_rooms(bob)
    (await concord(alice, "DELETE", q(guild))).ok()
    assert await joined_rooms(alice) == [] and await joined_rooms(bob) == []
    # Gone: not a guild any more, for any endpoint.
    reply = await concord(alice, "POST", f"{q(guild)}/channels", {"name": "x"})
    assert (reply.status, reply.errcode) == (404, "M_NOT_FOUND")


async def test_channels_and_categories(alice: User, bob: User) -> None:
    made = await member_guild(alice, bob)
    await check_category_move_reorders_for_everyone(alice, bob, made)
    await check_refusals_change_nothing(alice, bob, made)
    await check_manage_channels_role(alice, bob, made)
    await check_delete_channel_and_guild(alice, bob, made)
