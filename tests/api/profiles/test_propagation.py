"""Name and avatar changes reach every room the user is joined to as new member events
(spec: client-server "Events on Change of Profile Information"), and member events our
users emit carry their profile."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from homeserver.api.client.profiles_common import USER_HANDLERS_KEY
from homeserver.appkeys import PIPELINE_KEY
from homeserver.rooms.pipeline import StateChanged

from ...support.matrix_client import Server, User, q


async def set_field(user: User, key: str, value: Any) -> None:
    assert (await user.call("PUT", f"/profile/{q(user.user_id)}/{key}", {key: value})).ok() == {}


async def member(user: User, room: str, target: str) -> dict[str, Any]:
    reply = await user.call("GET", f"/rooms/{q(room)}/state/m.room.member/{q(target)}")
    content: dict[str, Any] = reply.ok()
    return content


async def joined_members(user: User, room: str) -> dict[str, Any]:
    body: dict[str, Any] = (await user.call("GET", f"/rooms/{q(room)}/joined_members")).ok()
    return body["joined"]


async def member_events(user: User, room: str, target: str) -> list[dict[str, Any]]:
    chunk = (await user.messages(room, dir="b", limit=100)).ok()["chunk"]
    return [e for e in chunk if e["type"] == "m.room.member" and e["state_key"] == target]


async def test_display_name_reaches_every_joined_room(alice: User, bob: User) -> None:
    shared = await alice.create_room(preset="public_chat")
    (await bob.join(shared)).ok()
    own = await alice.create_room()
    left = await bob.create_room(preset="public_chat")
    (await alice.join(left)).ok()
    (await alice.leave(left)).ok()
    # A custom key in alice's member event in `shared` survives the refresh.
    await alice.put_state(
        shared,
        "m.room.member",
        {"membership": "join", "displayname": "alice", "org.example.flair": "gold"},
        alice.user_id,
    )
    since = (await bob.sync())["next_batch"]
    left_before = await member(bob, left, alice.user_id)

    await set_field(alice, "displayname", "Alice Wonder")

    assert (await joined_members(bob, shared))[alice.user_id] == {"display_name": "Alice Wonder"}
    assert (await joined_members(alice, own))[alice.user_id] == {"display_name": "Alice Wonder"}
    assert await member(bob, shared, alice.user_id) == {
        "membership": "join",
        "displayname": "Alice Wonder",
        "org.example.flair": "gold",
    }
    # The room alice left is untouched.
    assert await member(bob, left, alice.user_id) == left_before
    assert left_before["membership"] == "leave"

    # Bob's /sync delivers the new member event in the shared room's timeline.
    body = await bob.sync(since=since)
    events = body["rooms"]["join"][shared]["timeline"]["events"]
    changes = [
        e for e in events if e["type"] == "m.room.member" and e["state_key"] == alice.user_id
    ]
    assert [e["content"]["displayname"] for e in changes] == ["Alice Wonder"]
    assert left not in body["rooms"]["join"]

    # The avatar follows too, and removing it removes it from the member event.
    await set_field(alice, "avatar_url", "mxc://test.local/face")
    assert await member(bob, shared, alice.user_id) == {
        "membership": "join",
        "displayname": "Alice Wonder",
        "avatar_url": "mxc://test.local/face",
        "org.example.flair": "gold",
    }
    assert (await alice.call("DELETE", f"/profile/{q(alice.user_id)}/avatar_url")).ok() == {}
    assert "avatar_url" not in await member(bob, shared, alice.user_id)

    # Setting the same name again, or a custom field, sends nothing.
    count = len(await member_events(bob, shared, alice.user_id))
    await set_field(alice, "displayname", "Alice Wonder")
    await set_field(alice, "im.concord.description", "hello")
    assert len(await member_events(bob, shared, alice.user_id)) == count


async def test_new_member_events_carry_the_profile(alice: User, bob: User, carol: User) -> None:
    await set_field(alice, "displayname", "Queen Alice")
    await set_field(alice, "avatar_url", "mxc://test.local/crown")
    await set_field(bob, "displayname", "Bob B")
    # The creator's join.
    room = await alice.create_room(preset="public_chat", invite=[carol.user_id])
    assert await member(alice, room, alice.user_id) == {
        "membership": "join",
        "displayname": "Queen Alice",
        "avatar_url": "mxc://test.local/crown",
    }
    # An invite at creation, and one later, show the invitee's own profile.
    assert await member(alice, room, carol.user_id) == {
        "membership": "invite",
        "displayname": "carol",
    }
    private = await alice.create_room()
    (await alice.invite(private, bob.user_id)).ok()
    assert await member(alice, private, bob.user_id) == {
        "membership": "invite",
        "displayname": "Bob B",
    }
    # A join fills the profile in.
    (await bob.join(room)).ok()
    assert await member(alice, room, bob.user_id) == {"membership": "join", "displayname": "Bob B"}


async def test_a_room_that_refuses_the_update_is_skipped(
    alice: User, bob: User, caplog: pytest.LogCaptureFixture
) -> None:
    fine = await alice.create_room()
    stuck = await alice.create_room()
    # A member event within 100 bytes of the 64 KiB event limit: a 250-character name
    # instead of "a" takes it past.
    for pad in range(65_500, 60_000, -100):
        content = {"membership": "join", "displayname": "a", "org.example.pad": "x" * pad}
        reply = await alice.put_state(stuck, "m.room.member", content, alice.user_id)
        if reply.status == 200:
            break
        assert reply.errcode == "M_TOO_LARGE"
    else:
        raise AssertionError("no padding fitted")
    with caplog.at_level(logging.WARNING, logger="homeserver.profiles.handler"):
        await set_field(alice, "displayname", "A" * 250)
    assert (await joined_members(alice, fine))[alice.user_id] == {"display_name": "A" * 250}
    assert (await member(alice, stuck, alice.user_id))["displayname"] == "a"
    assert any(
        r.getMessage() == "profile not propagated to room"
        and r.__dict__["fields"]["room_id"] == stuck
        for r in caplog.records
    )


async def test_a_refresh_never_undoes_a_membership_change(server: Server, alice: User) -> None:
    """The pipeline checks the join a refresh replaces is still current, under the
    room lock: a profile change racing a leave must not re-join the user."""
    room = await alice.create_room(preset="public_chat")
    join = await alice.call("GET", f"/rooms/{q(room)}/state", None)
    join_id = next(
        e["event_id"]
        for e in join.ok()
        if e["type"] == "m.room.member" and e["state_key"] == alice.user_id
    )
    (await alice.leave(room)).ok()
    pipeline = server.app[PIPELINE_KEY]
    with pytest.raises(StateChanged):
        await pipeline.send(
            room,
            alice.user_id,
            "m.room.member",
            {"membership": "join", "displayname": "late"},
            state_key=alice.user_id,
            if_state=(("m.room.member", alice.user_id), join_id),
        )
    assert (await member(alice, room, alice.user_id))["membership"] == "leave"


async def test_quick_renames_leave_every_room_with_the_last_name(alice: User) -> None:
    rooms = [await alice.create_room() for _ in range(3)]
    path = f"/profile/{q(alice.user_id)}/displayname"
    replies = await asyncio.gather(
        *(alice.call("PUT", path, {"displayname": f"name {i}"}) for i in range(5))
    )
    assert all(reply.ok() == {} for reply in replies)
    final = (await alice.call("GET", path)).ok()["displayname"]
    for room in rooms:
        assert (await member(alice, room, alice.user_id))["displayname"] == final


async def test_listeners_hear_name_and_avatar_changes(server: Server, alice: User) -> None:
    heard: list[tuple[str, dict[str, Any]]] = []

    async def listener(user_id: str, profile: dict[str, Any]) -> None:
        heard.append((user_id, profile))

    async def broken(user_id: str, profile: dict[str, Any]) -> None:
        raise RuntimeError("a broken listener must not fail the request")

    handlers = server.app[USER_HANDLERS_KEY].profiles
    handlers.member_fields_changed += [broken, listener]
    await set_field(alice, "displayname", "Alice L")
    await set_field(alice, "im.concord.description", "not a member field")
    await set_field(alice, "avatar_url", "mxc://test.local/a")
    assert heard == [
        (alice.user_id, {"displayname": "Alice L"}),
        (
            alice.user_id,
            {
                "displayname": "Alice L",
                "im.concord.description": "not a member field",
                "avatar_url": "mxc://test.local/a",
            },
        ),
    ]
