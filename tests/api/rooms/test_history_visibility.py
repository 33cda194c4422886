"""History visibility through the read endpoints: what bob may read depends on the
room's ``m.room.history_visibility`` and his membership at each event."""

from __future__ import annotations

from typing import Any

from ...support.matrix_client import User, q


async def bodies(user: User, room: str, direction: str = "b") -> list[str]:
    page = (await user.messages(room, dir=direction, limit=100)).ok()
    return [e["content"]["body"] for e in page["chunk"] if e["type"] == "m.room.message"]


async def room_with(alice: User, visibility: str, **extra: Any) -> str:
    return await alice.create_room(
        preset="public_chat",
        initial_state=[
            {"type": "m.room.history_visibility", "content": {"history_visibility": visibility}}
        ],
        **extra,
    )


async def check_joined_hides_history_before_the_join(alice: User, bob: User) -> None:
    room = await room_with(alice, "joined")
    before = await alice.send(room, "before")
    await bob.join(room)
    await alice.send(room, "after")
    assert await bodies(bob, room) == ["after"]
    assert await bodies(bob, room, "f") == ["after"]
    # Bob sees his own join, not what came before it — except the room's first events,
    # sent while no history_visibility was set yet (which means `shared`).
    page = (await bob.messages(room, dir="b", limit=100)).ok()
    types = [e["type"] for e in page["chunk"]]
    assert types[:3] == ["m.room.message", "m.room.member", "m.room.history_visibility"]
    assert page["chunk"][1]["state_key"] == bob.user_id
    assert before not in [e["event_id"] for e in page["chunk"]]
    reply = await bob.call("GET", f"/rooms/{q(room)}/event/{q(before)}")
    assert reply.status == 404
    reply = await bob.call("GET", f"/rooms/{q(room)}/context/{q(before)}")
    assert reply.status == 404
    # Alice, there from the start, sees all.
    assert await bodies(alice, room) == ["after", "before"]


async def check_shared_shows_history_to_joined_members(alice: User, bob: User) -> None:
    room = await room_with(alice, "shared")
    before = await alice.send(room, "before")
    # Not joined yet: no access at all.
    assert (await bob.messages(room, dir="b")).status == 403
    assert (await bob.call("GET", f"/rooms/{q(room)}/event/{q(before)}")).status == 403
    await bob.join(room)
    await alice.send(room, "after")
    assert await bodies(bob, room) == ["after", "before"]
    assert (await bob.call("GET", f"/rooms/{q(room)}/event/{q(before)}")).status == 200


async def check_invited_shows_from_the_invite(alice: User, bob: User) -> None:
    room = await room_with(alice, "invited")
    await alice.send(room, "before invite")
    await alice.act("invite", room, bob.user_id)
    await alice.send(room, "while invited")
    await bob.join(room)
    await alice.send(room, "joined")
    assert await bodies(bob, room) == ["joined", "while invited"]


async def check_world_readable_for_anyone(alice: User, bob: User) -> None:
    room = await room_with(alice, "world_readable")
    event_id = await alice.send(room, "public")
    assert await bodies(bob, room) == ["public"]
    assert (await bob.call("GET", f"/rooms/{q(room)}/event/{q(event_id)}")).status == 200
    assert (await bob.call("GET", f"/rooms/{q(room)}/state")).status == 200
    assert (await bob.call("GET", f"/rooms/{q(room)}/members")).status == 200
    # Turning it to `joined` hides what comes next, not what was readable.
    await alice.put_state(room, "m.room.history_visibility", {"history_visibility": "joined"})
    await alice.send(room, "private")
    assert (await bob.messages(room, dir="b")).status == 403
    await bob.join(room)
    await alice.send(room, "welcome")
    assert await bodies(bob, room) == ["welcome", "public"]


async def check_leaving_stops_reading(alice: User, bob: User) -> None:
    room = await room_with(alice, "shared")
    await alice.send(room, "one")
    await bob.join(room)
    await alice.put_state(room, "m.room.topic", {"topic": "while bob was here"})
    await bob.leave(room)
    await alice.send(room, "after bob left")
    await alice.put_state(room, "m.room.topic", {"topic": "later"})
    assert await bodies(bob, room) == ["one"]
    assert await bodies(bob, room, "f") == ["one"]
    # State as it was when he left.
    topic = await bob.call("GET", f"/rooms/{q(room)}/state/m.room.topic")
    assert topic.ok() == {"topic": "while bob was here"}
    members = (await bob.call("GET", f"/rooms/{q(room)}/members")).ok()["chunk"]
    assert {m["state_key"]: m["content"]["membership"] for m in members}[bob.user_id] == "leave"


async def check_non_members_are_forbidden_everywhere(alice: User, bob: User) -> None:
    room = await room_with(alice, "shared")
    event_id = await alice.send(room, "x")
    for path in (
        f"/rooms/{q(room)}/messages?dir=b",
        f"/rooms/{q(room)}/state",
        f"/rooms/{q(room)}/members",
        f"/rooms/{q(room)}/joined_members",
        f"/rooms/{q(room)}/event/{q(event_id)}",
        f"/rooms/{q(room)}/context/{q(event_id)}",
        f"/rooms/{q(room)}/aliases",
    ):
        reply = await bob.call("GET", path)
        assert reply.status == 403 and reply.errcode == "M_FORBIDDEN", path


async def check_rejoining_shows_only_the_times_one_was_in(alice: User, bob: User) -> None:
    room = await room_with(alice, "joined")
    await bob.join(room)
    await alice.send(room, "first stay")
    await bob.leave(room)
    await alice.send(room, "while away")
    await bob.join(room)
    await alice.send(room, "second stay")
    assert await bodies(bob, room) == ["second stay", "first stay"]
    assert await bodies(bob, room, "f") == ["first stay", "second stay"]


async def test_joined_and_invited(alice: User, bob: User) -> None:
    await check_joined_hides_history_before_the_join(alice, bob)
    await check_invited_shows_from_the_invite(alice, bob)
    await check_rejoining_shows_only_the_times_one_was_in(alice, bob)


async def test_shared_and_non_members(alice: User, bob: User) -> None:
    await check_shared_shows_history_to_joined_members(alice, bob)
    await check_non_members_are_forbidden_everywhere(alice, bob)


async def test_world_readable_and_leaving(alice: User, bob: User) -> None:
    await check_world_readable_for_anyone(alice, bob)
    await check_leaving_stops_reading(alice, bob)
