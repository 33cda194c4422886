"""Room upgrades: the replacement room, its state, the tombstone, moved aliases."""

from __future__ import annotations

import asyncio
from typing import Any

from ...support.matrix_client import Server, User, q


async def state(user: User, room: str, event_type: str, *, as_event: bool = False) -> Any:
    params = {"format": "event"} if as_event else None
    return (await user.call("GET", f"/rooms/{q(room)}/state/{event_type}", params=params)).ok()


async def test_upgrade_across_versions(server: Server, alice: User, bob: User) -> None:
    # One server for every pair keeps the test fast; aliases differ per pair.
    for old, new in (("10", "11"), ("11", "12"), ("12", "12"), ("12", "10")):
        await upgrade_and_check(server, alice, bob, old, new)


async def upgrade_and_check(server: Server, alice: User, bob: User, old: str, new: str) -> None:
    alias = f"#up{old}to{new}:test.local"
    room = await alice.create_room(
        preset="public_chat",
        visibility="public",
        room_version=old,
        name="Old name",
        topic="Old topic",
        room_alias_name=alias[1:].split(":")[0],
    )
    await bob.join(room)
    await alice.act("ban", room, "@troll:test.local", reason="trolling")
    reply = await alice.call("POST", f"/rooms/{q(room)}/upgrade", {"new_version": new})
    new_room = reply.ok()["replacement_room"]
    assert new_room != room
    create = await state(alice, new_room, "m.room.create")
    assert create["room_version"] == new
    assert create["predecessor"]["room_id"] == room
    assert (await state(alice, new_room, "m.room.name")) == {"name": "Old name"}
    assert (await state(alice, new_room, "m.room.topic"))["topic"] == "Old topic"
    assert (await state(alice, new_room, "m.room.join_rules")) == {"join_rule": "public"}
    ban = await alice.call(
        "GET", f"/rooms/{q(new_room)}/state/m.room.member/{q('@troll:test.local')}"
    )
    assert ban.ok()["membership"] == "ban"
    # The alias moved, the canonical alias too; the directory lists the new room.
    resolved = await server.call("GET", f"/directory/room/{q(alias)}")
    assert resolved.ok()["room_id"] == new_room
    assert (await state(alice, new_room, "m.room.canonical_alias"))["alias"] == alias
    listed = [c["room_id"] for c in (await server.call("GET", "/publicRooms")).ok()["chunk"]]
    assert new_room in listed and room not in listed
    # The old room: tombstone, restricted power levels.
    tombstone = await state(bob, room, "m.room.tombstone")
    assert tombstone["replacement_room"] == new_room
    levels = await state(bob, room, "m.room.power_levels")
    assert levels["events_default"] == 50 and levels["invite"] == 50
    reply = await bob.call("PUT", f"/rooms/{q(room)}/send/m.room.message/x", {"body": "hi"})
    assert reply.status == 403
    # Bob follows the tombstone and talks in the new room.
    assert (await bob.join(new_room)).ok() == {"room_id": new_room}
    await bob.send(new_room, "hello new room")
    # The upgrader can still administer the new room.
    assert (await alice.put_state(new_room, "m.room.name", {"name": "New name"})).status == 200


async def check_upgrade_permissions_and_errors(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat", room_version="11")
    await bob.join(room)
    reply = await bob.call("POST", f"/rooms/{q(room)}/upgrade", {"new_version": "12"})
    assert reply.status == 403 and reply.errcode == "M_FORBIDDEN"
    reply = await alice.call("POST", f"/rooms/{q(room)}/upgrade", {"new_version": "99"})
    assert reply.status == 400 and reply.errcode == "M_UNSUPPORTED_ROOM_VERSION"
    reply = await alice.call("POST", f"/rooms/{q(room)}/upgrade", {})
    assert reply.status == 400 and reply.errcode == "M_BAD_JSON"
    reply = await alice.call("POST", f"/rooms/{q(room)}/upgrade", raw=b"nope")
    assert reply.status == 400 and reply.errcode == "M_NOT_JSON"
    reply = await alice.call(
        "POST", f"/rooms/{q('!nope:test.local')}/upgrade", {"new_version": "12"}
    )
    assert reply.status == 404
    # Additional creators (v12) become creators of the new room.
    reply = await alice.call(
        "POST",
        f"/rooms/{q(room)}/upgrade",
        {"new_version": "12", "additional_creators": [bob.user_id]},
    )
    new_room = reply.ok()["replacement_room"]
    create = await state(alice, new_room, "m.room.create")
    assert create["additional_creators"] == [bob.user_id]
    await bob.join(new_room)
    assert (await bob.put_state(new_room, "m.room.name", {"name": "bob's"})).status == 200


async def check_concurrent_retries_share_one_upgrade(alice: User) -> None:
    room = await alice.create_room(preset="public_chat", room_version="11")
    path = f"/rooms/{q(room)}/upgrade"
    first, second = await asyncio.gather(
        alice.call("POST", path, {"new_version": "12"}),
        alice.call("POST", path, {"new_version": "12"}),
    )
    assert first.ok() == second.ok()


async def test_upgrade_rules(alice: User, bob: User) -> None:
    await check_upgrade_permissions_and_errors(alice, bob)
    await check_concurrent_retries_share_one_upgrade(alice)
