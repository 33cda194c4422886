"""1:1 DMs (``POST /_matrix/client/unstable/im.concord/dm``): one room per pair,
whoever asks, listed in ``m.direct`` so any Matrix client shows it as a DM."""

from __future__ import annotations

import asyncio
from typing import Any

from ..support.matrix_client import Server, User, q
from ..support.waiting import until

DM = "/_matrix/client/unstable/im.concord/dm"


async def open_dm(user: User, other: str) -> str:
    return str((await user.call("POST", DM, {"user_id": other})).ok()["room_id"])


async def m_direct(user: User) -> dict[str, Any]:
    reply = await user.call("GET", f"/user/{q(user.user_id)}/account_data/m.direct")
    return dict(reply.ok())


async def members(user: User, room_id: str) -> dict[str, str]:
    state = (await user.call("GET", f"/rooms/{q(room_id)}/state")).ok()
    return {
        e["state_key"]: e["content"]["membership"] for e in state if e["type"] == "m.room.member"
    }


async def test_message_this_user_opens_one_room_from_either_side(alice: User, bob: User) -> None:
    room = await open_dm(alice, bob.user_id)
    assert await open_dm(alice, bob.user_id) == room  # asking again: the same DM
    assert (await m_direct(alice)) == {bob.user_id: [room]}
    # Bob sees an invite flagged as a DM, as any Matrix client expects.
    invite = (await bob.sync())["rooms"]["invite"][room]["invite_state"]["events"]
    mine = [e for e in invite if e["type"] == "m.room.member" and e["state_key"] == bob.user_id]
    assert mine[0]["content"]["membership"] == "invite"
    assert mine[0]["content"]["is_direct"] is True
    # Bob asks for Alice: the same room, joined, and now in his m.direct too.
    assert await open_dm(bob, alice.user_id) == room
    assert await members(alice, room) == {alice.user_id: "join", bob.user_id: "join"}
    assert (await m_direct(bob)) == {alice.user_id: [room]}
    assert await open_dm(bob, alice.user_id) == room
    # Messages flow both ways.
    await bob.send(room, "hello alice")
    texts = [e["content"].get("body") for e in (await alice.messages(room, dir="b")).ok()["chunk"]]
    assert "hello alice" in texts


async def test_each_pair_has_its_own_dm(alice: User, bob: User, carol: User) -> None:
    with_bob = await open_dm(alice, bob.user_id)
    with_carol = await open_dm(alice, carol.user_id)
    assert with_bob != with_carol
    assert await open_dm(carol, bob.user_id) not in (with_bob, with_carol)
    assert (await m_direct(alice)) == {bob.user_id: [with_bob], carol.user_id: [with_carol]}


async def test_concurrent_requests_create_one_room(alice: User, bob: User) -> None:
    rooms = await asyncio.gather(*(open_dm(alice, bob.user_id) for _ in range(4)))
    rooms.append(await open_dm(bob, alice.user_id))
    assert len(set(rooms)) == 1
    joined = (await alice.call("GET", "/joined_rooms")).ok()["joined_rooms"]
    assert joined == [rooms[0]]


async def test_a_dm_made_by_a_plain_client_is_found(alice: User, bob: User, carol: User) -> None:
    """A client that created the DM with createRoom alone (no m.direct): found by the
    is_direct invite, even after Bob joined (his join replaced the invite). Rooms of
    the two that are not DMs, or that have a third member, are not it."""
    await alice.create_room(invite=[bob.user_id])
    await alice.create_room(is_direct=True, invite=[bob.user_id, carol.user_id])
    room = await alice.create_room(is_direct=True, invite=[bob.user_id], preset="private_chat")
    (await bob.join(room)).ok()
    assert await open_dm(bob, alice.user_id) == room
    assert await open_dm(alice, bob.user_id) == room
    assert (await m_direct(alice)) == {bob.user_id: [room]}
    assert (await m_direct(bob)) == {alice.user_id: [room]}


async def test_accepting_from_a_plain_client_lists_the_dm(alice: User, bob: User) -> None:
    """Bob accepts with a plain /join: the room joins his m.direct under Alice (as the
    spec asks of his client; a client that does not is covered)."""
    room = await open_dm(alice, bob.user_id)
    plain = await alice.create_room(invite=[bob.user_id])  # an invite, not a DM
    (await bob.join(plain)).ok()
    (await bob.join(room)).ok()
    found = await until(lambda: direct_or_none(bob), "Bob's m.direct")
    assert found == {alice.user_id: [room]}


async def direct_or_none(user: User) -> dict[str, Any] | None:
    reply = await user.call("GET", f"/user/{q(user.user_id)}/account_data/m.direct")
    return dict(reply.body) if reply.status == 200 else None


async def test_a_dm_left_by_the_other_is_replaced(alice: User, bob: User) -> None:
    room = await open_dm(alice, bob.user_id)
    (await bob.join(room)).ok()
    (await bob.leave(room)).ok()
    fresh = await open_dm(alice, bob.user_id)
    assert fresh != room
    assert (await m_direct(alice))[bob.user_id][0] == fresh


async def test_bad_requests_change_nothing(server: Server, alice: User) -> None:
    for body, status, errcode in [
        ({}, 400, "M_BAD_JSON"),
        ({"user_id": 5}, 400, "M_BAD_JSON"),
        ({"user_id": "not a user"}, 400, "M_INVALID_PARAM"),
        ({"user_id": alice.user_id}, 400, "M_INVALID_PARAM"),
        ({"user_id": "@nobody:test.local"}, 404, "M_NOT_FOUND"),
    ]:
        reply = await alice.call("POST", DM, body)
        assert (reply.status, reply.errcode) == (status, errcode), body
    assert (await alice.call("POST", DM, {"user_id": "@x:test.local"}, auth=False)).status == 401
    assert (await alice.call("GET", "/joined_rooms")).ok()["joined_rooms"] == []
    reply = await alice.call("GET", f"/user/{q(alice.user_id)}/account_data/m.direct")
    assert reply.errcode == "M_NOT_FOUND"
