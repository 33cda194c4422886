"""Membership as two clients see it: create, join, invite, leave, kick, ban, unban,
knock, forget — and the errors the spec gives when the rules refuse."""

from __future__ import annotations

from ...support.matrix_client import Server, User, q


async def member_state(user: User, room: str, target: str) -> str | None:
    reply = await user.call("GET", f"/rooms/{q(room)}/state/m.room.member/{q(target)}")
    return reply.body.get("membership") if reply.status == 200 else None


async def joined_rooms(user: User) -> list[str]:
    return list((await user.call("GET", "/joined_rooms")).ok()["joined_rooms"])


async def check_create_room_and_join_public(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat", room_alias_name="lobby")
    assert await joined_rooms(alice) == [room]
    assert await joined_rooms(bob) == []
    # By alias, with via/server_name accepted.
    reply = await bob.call(
        "POST", f"/join/{q('#lobby:test.local')}", {}, params={"server_name": "test.local"}
    )
    assert reply.ok() == {"room_id": room}
    assert await joined_rooms(bob) == [room]
    # Joining again changes nothing.
    before = (await bob.messages(room, dir="b", limit=50)).ok()["chunk"]
    assert (await bob.call("POST", f"/rooms/{q(room)}/join", {})).ok() == {"room_id": room}
    after = (await bob.messages(room, dir="b", limit=50)).ok()["chunk"]
    assert len(after) == len(before)
    # r0 still works.
    assert (await bob.call("GET", "/_matrix/client/r0/joined_rooms")).ok()["joined_rooms"] == [room]


async def check_join_unknown_rooms_and_bad_ids(alice: User) -> None:
    assert (await alice.join("!nope:test.local")).errcode == "M_NOT_FOUND"
    assert (await alice.join("#nope:test.local")).errcode == "M_NOT_FOUND"
    # Remote rooms and aliases: federation comes later.
    assert (await alice.join("!abc:elsewhere.org")).errcode == "M_NOT_FOUND"
    assert (await alice.join("#abc:elsewhere.org")).errcode == "M_NOT_FOUND"
    reply = await alice.join("not-a-room")
    assert reply.status == 400 and reply.errcode == "M_INVALID_PARAM"
    reply = await alice.call("POST", "/rooms/bad/join", {})
    assert reply.status == 400 and reply.errcode == "M_INVALID_PARAM"


async def check_create_room_with_unknown_invitees_and_bad_body(alice: User) -> None:
    room = await alice.create_room(invite=["@ghost:test.local", "@remote:elsewhere.org"])
    assert await member_state(alice, room, "@ghost:test.local") == "invite"
    reply = await alice.call("POST", "/createRoom", raw=b"{nope")
    assert reply.status == 400 and reply.errcode == "M_NOT_JSON"
    reply = await alice.call("POST", "/createRoom", {"invite": ["not a user"]})
    assert reply.status == 400
    reply = await alice.call("POST", "/createRoom", {}, auth=False)
    assert reply.status == 401 and reply.errcode == "M_MISSING_TOKEN"


async def check_invite_only_room_needs_an_invite(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="private_chat")
    reply = await bob.join(room)
    assert reply.status == 403 and reply.errcode == "M_FORBIDDEN"
    assert (await alice.act("invite", room, bob.user_id, reason="come")).ok() == {}
    invite = await alice.call("GET", f"/rooms/{q(room)}/state/m.room.member/{q(bob.user_id)}")
    # The invite carries the invitee's own profile, as Synapse's do.
    assert invite.ok() == {"membership": "invite", "reason": "come", "displayname": "bob"}
    assert (await bob.join(room)).ok() == {"room_id": room}
    # Inviting a member is refused.
    reply = await alice.act("invite", room, bob.user_id)
    assert reply.status == 403 and reply.errcode == "M_FORBIDDEN"


async def check_invite_errors(alice: User, bob: User) -> None:
    room = await alice.create_room()
    assert (await alice.act("invite", room, "nope")).errcode == "M_INVALID_PARAM"
    reply = await alice.call("POST", f"/rooms/{q(room)}/invite", {})
    assert reply.status == 400 and reply.errcode == "M_MISSING_PARAM"
    reply = await alice.call("POST", f"/rooms/{q(room)}/invite", raw=b"[]")
    assert reply.status == 400 and reply.errcode == "M_BAD_JSON"
    # A non-member cannot invite.
    reply = await bob.act("invite", room, "@x:test.local")
    assert reply.status == 403
    reply = await alice.act("invite", "!unknown:test.local", bob.user_id)
    assert reply.status == 404


async def check_reject_invite_and_leave(alice: User, bob: User) -> None:
    room = await alice.create_room()
    await alice.act("invite", room, bob.user_id)
    assert (await bob.leave(room)).ok() == {}
    assert await member_state(alice, room, bob.user_id) == "leave"
    # Leaving again is a no-op; leaving a room one was never in is refused.
    assert (await bob.leave(room)).ok() == {}
    other = await alice.create_room()
    assert (await bob.leave(other)).status == 403
    assert (await bob.leave("!unknown:test.local")).status == 404


async def check_kick_ban_unban(alice: User, bob: User, carol: User) -> None:
    room = await alice.create_room(preset="public_chat")
    await bob.join(room)
    await carol.join(room)
    # Carol has no power to kick.
    reply = await carol.act("kick", room, bob.user_id)
    assert reply.status == 403 and reply.errcode == "M_FORBIDDEN"
    assert (await alice.act("kick", room, bob.user_id, reason="calm down")).ok() == {}
    member = await alice.call("GET", f"/rooms/{q(room)}/state/m.room.member/{q(bob.user_id)}")
    assert member.ok()["membership"] == "leave"
    assert member.body["reason"] == "calm down"
    assert await joined_rooms(bob) == []
    # Kicking someone not in the room is refused.
    assert (await alice.act("kick", room, bob.user_id)).status == 403
    # Bob may rejoin a public room after a kick, not after a ban.
    await bob.join(room)
    assert (await alice.act("ban", room, bob.user_id, reason="spam")).ok() == {}
    assert (await bob.join(room)).status == 403
    assert await member_state(alice, room, bob.user_id) == "ban"
    # Unban of someone not banned is refused; unban then join works.
    assert (await alice.act("unban", room, carol.user_id)).status == 403
    assert (await carol.act("unban", room, bob.user_id)).status == 403
    assert (await alice.act("unban", room, bob.user_id, reason="ok")).ok() == {}
    assert await member_state(alice, room, bob.user_id) == "leave"
    assert (await bob.join(room)).ok() == {"room_id": room}


async def check_knock(alice: User, bob: User) -> None:
    room = await alice.create_room(
        preset="private_chat",
        room_alias_name="knockable",
        initial_state=[{"type": "m.room.join_rules", "content": {"join_rule": "knock"}}],
    )
    reply = await bob.call("POST", f"/knock/{q('#knockable:test.local')}", {"reason": "pls"})
    assert reply.ok() == {"room_id": room}
    assert await member_state(alice, room, bob.user_id) == "knock"
    await alice.act("invite", room, bob.user_id)
    assert (await bob.join(room)).ok() == {"room_id": room}
    # Knocking on a room one is in, or on an invite-only room, is refused.
    assert (await bob.call("POST", f"/knock/{q(room)}", {})).status == 403
    closed = await alice.create_room(preset="private_chat")
    assert (await bob.call("POST", f"/knock/{q(closed)}", {})).status == 403
    assert (await bob.call("POST", f"/knock/{q('!x:test.local')}", {})).status == 404


async def check_forget(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    await bob.join(room)
    await alice.send(room, "secret-ish")
    reply = await bob.call("POST", f"/rooms/{q(room)}/forget", {})
    assert reply.status == 400 and reply.errcode == "M_UNKNOWN"
    await bob.leave(room)
    # After leaving, bob still reads what he saw; after forgetting, nothing.
    assert (await bob.messages(room, dir="b")).status == 200
    assert (await bob.call("POST", f"/rooms/{q(room)}/forget", {})).ok() == {}
    reply = await bob.messages(room, dir="b")
    assert reply.status == 403 and reply.errcode == "M_FORBIDDEN"
    assert await joined_rooms(bob) == []
    # Rejoining brings the room back.
    await bob.join(room)
    assert await joined_rooms(bob) == [room]


async def check_restricted_join_through_a_room_membership(
    server: Server, alice: User, bob: User
) -> None:
    space = await alice.create_room(preset="public_chat")
    channel = await alice.create_room(
        preset="private_chat",
        room_version="10",
        initial_state=[
            {
                "type": "m.room.join_rules",
                "content": {
                    "join_rule": "restricted",
                    "allow": [{"type": "m.room_membership", "room_id": space}],
                },
            }
        ],
    )
    assert (await bob.join(channel)).status == 403
    await bob.join(space)
    assert (await bob.join(channel)).ok() == {"room_id": channel}
    member = await bob.call(
        "GET",
        f"/rooms/{q(channel)}/state/m.room.member/{q(bob.user_id)}",
        params={"format": "event"},
    )
    assert member.ok()["content"]["join_authorised_via_users_server"] == alice.user_id


async def test_joining(alice: User, bob: User) -> None:
    await check_create_room_and_join_public(alice, bob)
    await check_join_unknown_rooms_and_bad_ids(alice)
    await check_create_room_with_unknown_invitees_and_bad_body(alice)


async def test_inviting(alice: User, bob: User) -> None:
    await check_invite_only_room_needs_an_invite(alice, bob)
    await check_invite_errors(alice, bob)
    await check_reject_invite_and_leave(alice, bob)


async def test_moderation_and_knocking(alice: User, bob: User, carol: User) -> None:
    await check_kick_ban_unban(alice, bob, carol)
    await check_knock(alice, bob)


async def test_forgetting_and_restricted_rooms(server: Server, alice: User, bob: User) -> None:
    await check_forget(alice, bob)
    await check_restricted_join_through_a_room_membership(server, alice, bob)
