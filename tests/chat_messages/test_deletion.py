"""Deleting a message is a redaction (spec: client-server "Redactions"): the sender
may delete their own; others need the channel's ``redact`` level, which the
permission compiler gives to roles with ``delete_messages`` and to Admins."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from homeserver.chat.event_types import MEMBER_ROLES, ROLE, member_roles_key

from ..support.matrix_client import User, q
from ..support.waiting import until

GUILDS = "/_matrix/client/unstable/im.concord/guilds"


async def delete(user: User, room: str, event_id: str) -> Any:
    user._txn += 1
    path = f"/rooms/{q(room)}/redact/{q(event_id)}/d{user._txn}"
    return await user.call("PUT", path, {"reason": "cleanup"})


async def content_seen(user: User, room: str, event_id: str) -> dict[str, Any]:
    return dict((await user.call("GET", f"/rooms/{q(room)}/event/{q(event_id)}")).ok()["content"])


async def test_sender_deletes_own_others_cannot(alice: User, bob: User, carol: User) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    (await carol.join(room)).ok()
    first = await bob.send(room, "oops")
    refused = await delete(carol, room, first)
    assert (refused.status, refused.errcode) == (403, "M_FORBIDDEN")
    assert (await content_seen(alice, room, first))["body"] == "oops"
    (await delete(bob, room, first)).ok()
    assert await content_seen(carol, room, first) == {}
    # The room's creator (v12: unlimited power) deletes anyone's message.
    second = await carol.send(room, "spam")
    (await delete(alice, room, second)).ok()
    assert await content_seen(bob, room, second) == {}


async def level_of(user: User, room: str, who: str) -> tuple[int, int]:
    """(``who``'s level, the ``redact`` level) in the room's current power levels."""
    path = f"/rooms/{q(room)}/state/m.room.power_levels/"
    levels = (await user.call("GET", path)).ok()
    return levels.get("users", {}).get(who, levels.get("users_default", 0)), levels["redact"]


async def test_delete_messages_role_and_admins(
    alice: User, bob: User, carol: User, dave: User
) -> None:
    """In a guild (made by the steward): Bob's "Janitors" role grants delete_messages,
    Dave is an Admin, Carol has no role. Carol deletes only her own messages."""
    guild = (await alice.call("POST", GUILDS, {"name": "Tidy", "public": True})).ok()
    space = guild["room_id"]
    (general,) = [c["room_id"] for c in guild["channels"] if c["kind"] == "text"]
    for user in (bob, carol, dave):
        (await user.join(space)).ok()
        (await user.join(general)).ok()
    janitors = {"name": "Janitors", "position": 5, "permissions": ["delete_messages"]}
    (await alice.put_state(space, ROLE, janitors, "janitors")).ok()
    for user, roles in ((bob, ["janitors"]), (dave, ["admin"])):
        body = {"roles": roles}
        (await alice.put_state(space, MEMBER_ROLES, body, member_roles_key(user.user_id))).ok()

    async def may_redact(user: User) -> bool:
        mine, needed = await level_of(alice, general, user.user_id)
        return mine >= needed

    await until(lambda: may_redact(bob), "the steward's levels for Janitors")
    await until(lambda: may_redact(dave), "the steward's levels for Admins")
    assert not await may_redact(carol)

    spam = [await carol.send(general, f"spam {i}") for i in range(3)]
    by_bob = await bob.send(general, "bob's")
    refused = await delete(carol, general, by_bob)
    assert (refused.status, refused.errcode) == (403, "M_FORBIDDEN")
    (await delete(carol, general, spam[0])).ok()  # her own
    (await delete(bob, general, spam[1])).ok()  # delete_messages
    (await delete(dave, general, spam[2])).ok()  # Admin
    for event_id in spam:
        assert await content_seen(alice, general, event_id) == {}
    assert (await content_seen(alice, general, by_bob))["body"] == "bob's"
    # Taking the role away takes the power with it.
    (await alice.put_state(space, MEMBER_ROLES, {"roles": []}, member_roles_key(bob.user_id))).ok()
    await until(lambda: _not(may_redact(bob)), "Bob's level lowered")
    more = await carol.send(general, "more spam")
    refused = await delete(bob, general, more)
    assert (refused.status, refused.errcode) == (403, "M_FORBIDDEN")


async def _not(check: Awaitable[bool]) -> bool:
    return not await check
