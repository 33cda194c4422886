"""Our server refuses malformed Concord content and out-of-rank role edits from its own
clients (issue 9), over HTTP against an in-process server, and persists nothing then."""

from __future__ import annotations

from typing import Any

from homeserver.chat import event_types as et

from ..support.matrix_client import Reply, User, q

ADMIN_ROLE = {"name": "Admin", "position": 1000, "permissions": ["administrator"]}
MODS = {"name": "Mods", "position": 10, "permissions": ["manage_roles", "kick"]}
MEMBERS = {"name": "Members", "position": 1}


async def state_of(user: User, room: str, event_type: str, key: str) -> Any:
    reply = await user.call("GET", f"/rooms/{q(room)}/state/{q(event_type)}/{q(key)}")
    return reply.body if reply.status == 200 else reply.status


async def set_roles(actor: User, space: str, target: User, content: dict[str, Any]) -> Reply:
    key = et.member_roles_key(target.user_id)
    return await actor.put_state(space, et.MEMBER_ROLES, content, key)


async def guild(alice: User, bob: User, carol: User) -> str:
    """Alice creates the space (its v12 creator: she outranks every role); Bob is a Mod
    with enough power to send role events, Carol a Member with the same power level, so
    only the Concord rank rules can stop them."""
    space = await alice.create_room(
        preset="public_chat",
        creation_content={"type": "m.space"},
        power_level_content_override={"users": {bob.user_id: 50, carol.user_id: 50}},
    )
    await bob.join(space)
    await carol.join(space)
    for role_id, content in (("admin", ADMIN_ROLE), ("mods", MODS), ("members", MEMBERS)):
        (await alice.put_state(space, et.ROLE, content, role_id)).ok()
    (await set_roles(alice, space, bob, {"roles": ["mods"]})).ok()
    (await set_roles(alice, space, carol, {"roles": ["members"]})).ok()
    return space


async def check_malformed_state_is_refused(alice: User, bob: User, carol: User) -> None:
    space = await guild(alice, bob, carol)
    bad: list[tuple[str, str, dict[str, Any]]] = [
        (et.ROLE, "mods", {"name": "Mods", "position": "high"}),
        (et.ROLE, "mods", {"name": "Mods", "position": 1, "permissions": ["fly"]}),
        (et.MEMBER_ROLES, et.member_roles_key(bob.user_id), {"roles": "mods"}),
        (et.MEMBER_ROLES, bob.user_id, {"roles": []}),  # bare user id: see member_roles_key
        (et.CATEGORY, "text", {"name": "Text"}),
        (et.BANNER, "", {"url": "http://example.org/a.gif"}),
        (et.CHANNEL_PERMISSIONS, "", {"read": ["mods"], "shout": []}),
        (et.SPACE_CHILD, "!abc:test.local", {"via": ["test.local"], "order": "x" * 51}),
    ]
    for event_type, key, content in bad:
        before = await state_of(alice, space, event_type, key)
        reply = await alice.put_state(space, event_type, content, key)
        assert (reply.status, reply.errcode) == (400, "M_BAD_JSON"), (event_type, reply)
        assert await state_of(alice, space, event_type, key) == before
    # Well-formed ones pass, deletion included.
    (await alice.put_state(space, et.CATEGORY, {"name": "Text", "order": 0}, "text")).ok()
    (await alice.put_state(space, et.CATEGORY, {}, "text")).ok()
    # createRoom's initial_state gets the same check.
    reply = await alice.call(
        "POST",
        "/createRoom",
        {"initial_state": [{"type": et.CHANNEL_PERMISSIONS, "content": {"read": "all"}}]},
    )
    assert (reply.status, reply.errcode) == (400, "M_BAD_JSON")


async def check_role_mentions_shape(alice: User) -> None:
    room = await alice.create_room()
    path = f"/rooms/{q(room)}/send/m.room.message/"
    bad = {"msgtype": "m.text", "body": "@Mods", et.ROLE_MENTIONS: "mods"}
    reply = await alice.call("PUT", path + "bad", bad)
    assert (reply.status, reply.errcode) == (400, "M_BAD_JSON")
    chunk = (await alice.messages(room, dir="b", limit=10)).ok()["chunk"]
    assert not [e for e in chunk if e["type"] == "m.room.message"]
    good = {"msgtype": "m.text", "body": "@Mods", et.ROLE_MENTIONS: ["mods"]}
    (await alice.call("PUT", path + "good", good)).ok()


async def check_roles_are_managed_by_rank(alice: User, bob: User, carol: User) -> None:
    space = await guild(alice, bob, carol)

    async def refused(user: User, event_type: str, content: dict[str, Any], key: str) -> None:
        before = await state_of(alice, space, event_type, key)
        reply = await user.put_state(space, event_type, content, key)
        assert (reply.status, reply.errcode) == (403, "M_FORBIDDEN"), (content, reply)
        assert await state_of(alice, space, event_type, key) == before

    # Bob (Mods, 10, manage_roles) manages what is below him...
    (await bob.put_state(space, et.ROLE, {**MEMBERS, "color": "#00ff00"}, "members")).ok()
    (await bob.put_state(space, et.ROLE, {"name": "Helpers", "position": 5}, "helpers")).ok()
    (await set_roles(bob, space, carol, {"roles": ["helpers"]})).ok()
    # ... but not his own rank or above, nor anyone's roles at his rank or above.
    await refused(bob, et.ROLE, {**MODS, "permissions": ["administrator"]}, "mods")
    await refused(bob, et.ROLE, {**MEMBERS, "position": 10}, "members")
    await refused(bob, et.ROLE, {"name": "Top", "position": 999}, "top")
    await refused(bob, et.ROLE, {}, "admin")
    await refused(bob, et.MEMBER_ROLES, {"roles": ["mods"]}, et.member_roles_key(carol.user_id))
    await refused(bob, et.MEMBER_ROLES, {"roles": ["admin"]}, et.member_roles_key(bob.user_id))
    await refused(bob, et.MEMBER_ROLES, {"roles": []}, et.member_roles_key(alice.user_id))
    # Carol has the power level but no manage_roles: nothing.
    await refused(carol, et.ROLE, {"name": "Mine", "position": 0}, "mine")
    await refused(carol, et.MEMBER_ROLES, {"roles": []}, et.member_roles_key(carol.user_id))
    # An Admin manages every role but the Admin role; only the creator makes Admins.
    (await set_roles(alice, space, bob, {"roles": ["admin"]})).ok()
    (await bob.put_state(space, et.ROLE, {**MODS, "position": 900}, "mods")).ok()
    await refused(bob, et.ROLE, {**ADMIN_ROLE, "name": "Boss"}, "admin")
    await refused(bob, et.MEMBER_ROLES, {"roles": ["admin"]}, et.member_roles_key(carol.user_id))
    (await set_roles(bob, space, carol, {"roles": ["mods"]})).ok()


async def test_enforcement(alice: User, bob: User, carol: User) -> None:
    await check_malformed_state_is_refused(alice, bob, carol)
    await check_role_mentions_shape(alice)
    await check_roles_are_managed_by_rank(alice, bob, carol)
