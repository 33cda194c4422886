"""Two Concord servers sharing rooms: joins, invites, leaves and what each side sees.

spec: server-server "Joining Rooms", "Inviting to a room", "Leaving Rooms"; driven
through the client API of both servers as users would.
"""

from __future__ import annotations

import pytest

from ..support.federation import StartFederation
from ..support.matrix_client import q

pytestmark = pytest.mark.parametrize("version", ["10", "11", "12"])


async def _members(user, room_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    reply = await user.call("GET", f"/rooms/{q(room_id)}/joined_members")
    return sorted(reply.ok()["joined"])


async def test_remote_user_joins_a_public_room(federation: StartFederation, version: str) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    room_id = await alice.create_room(preset="public_chat", room_version=version, name="Hall")
    joined = await bob.call("POST", f"/join/{q(room_id)}", {}, params={"via": a.name})
    assert joined.ok()["room_id"] == room_id
    assert await _members(bob, room_id) == sorted([alice.user_id, bob.user_id])
    assert await _members(alice, room_id) == sorted([alice.user_id, bob.user_id])
    # Bob's server has the room's state: its name shows in his sync.
    sync = await bob.sync()
    state = sync["rooms"]["join"][room_id]["state"]["events"]
    timeline = sync["rooms"]["join"][room_id]["timeline"]["events"]
    names = [e["content"].get("name") for e in [*state, *timeline] if e["type"] == "m.room.name"]
    assert names == ["Hall"]


async def test_invite_a_remote_user_who_joins(federation: StartFederation, version: str) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    room_id = await alice.create_room(preset="private_chat", room_version=version)
    (await alice.invite(room_id, bob.user_id)).ok()
    sync = await bob.sync()
    assert room_id in sync["rooms"]["invite"]
    invite_state = sync["rooms"]["invite"][room_id]["invite_state"]["events"]
    assert any(e["type"] == "m.room.create" for e in invite_state)
    (await bob.call("POST", f"/rooms/{q(room_id)}/join", {})).ok()
    assert await _members(alice, room_id) == sorted([alice.user_id, bob.user_id])


async def test_remote_user_rejects_an_invite(federation: StartFederation, version: str) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    room_id = await alice.create_room(preset="private_chat", room_version=version)
    (await alice.invite(room_id, bob.user_id)).ok()
    (await bob.leave(room_id)).ok()
    member = await alice.call("GET", f"/rooms/{q(room_id)}/state/m.room.member/{q(bob.user_id)}")
    assert member.ok()["membership"] == "leave"
    sync = await bob.sync()
    assert room_id not in sync["rooms"]["invite"]
