"""Receipts and read markers as clients see them (spec: client-server "Receipts",
"Fully read markers")."""

from __future__ import annotations

import asyncio
from typing import Any

from homeserver.appkeys import NOTIFIER_KEY

from ..support.matrix_client import Server, User, q


def receipts_in(body: dict[str, Any], room_id: str) -> list[dict[str, Any]]:
    room = body["rooms"]["join"].get(room_id, {})
    return [
        e["content"]
        for e in room.get("ephemeral", {}).get("events", [])
        if e["type"] == "m.receipt"
    ]


async def receipt(user: User, room: str, event_id: str, kind: str = "m.read", **body: Any) -> Any:
    return await user.call("POST", f"/rooms/{q(room)}/receipt/{kind}/{q(event_id)}", body)


async def room_with_message(alice: User, bob: User) -> tuple[str, str]:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    event_id = await alice.send(room, "hello")
    return room, event_id


async def test_read_receipt_reaches_the_room(alice: User, bob: User) -> None:
    room, event_id = await room_with_message(alice, bob)
    since = (await alice.sync())["next_batch"]
    (await receipt(bob, room, event_id)).ok()
    body = await alice.sync(since)
    (content,) = receipts_in(body, room)
    assert list(content) == [event_id]
    assert set(content[event_id]["m.read"]) == {bob.user_id}
    assert isinstance(content[event_id]["m.read"][bob.user_id]["ts"], int)
    # The next incremental sync has nothing new.
    assert receipts_in(await alice.sync(body["next_batch"]), room) == []
    # An initial sync shows the current receipts.
    initial = receipts_in(await alice.sync(), room)
    assert initial and bob.user_id in initial[0][event_id]["m.read"]


async def test_private_receipts_are_only_for_their_owner(alice: User, bob: User) -> None:
    room, event_id = await room_with_message(alice, bob)
    (await receipt(bob, room, event_id, "m.read.private")).ok()
    assert receipts_in(await alice.sync(), room) == []
    (mine,) = receipts_in(await bob.sync(), room)
    assert bob.user_id in mine[event_id]["m.read.private"]


async def test_threaded_receipt_keeps_its_thread(alice: User, bob: User) -> None:
    room, event_id = await room_with_message(alice, bob)
    (await receipt(bob, room, event_id, thread_id="main")).ok()
    (content,) = receipts_in(await alice.sync(), room)
    assert content[event_id]["m.read"][bob.user_id]["thread_id"] == "main"


async def test_receipts_never_move_back(alice: User, bob: User) -> None:
    room, first = await room_with_message(alice, bob)
    second = await alice.send(room, "again")
    (await receipt(bob, room, second)).ok()
    since = (await alice.sync())["next_batch"]
    (await receipt(bob, room, first)).ok()  # accepted, but older: no change
    assert receipts_in(await alice.sync(since), room) == []
    (content,) = receipts_in(await alice.sync(), room)
    assert list(content) == [second]


async def test_receipt_wakes_a_long_poll(server: Server, alice: User, bob: User) -> None:
    room, event_id = await room_with_message(alice, bob)
    since = (await alice.sync())["next_batch"]
    poll = asyncio.create_task(alice.sync(since, timeout=10_000))
    notifier = server.app[NOTIFIER_KEY]
    while notifier.waiting == 0:
        await asyncio.sleep(0.005)
    (await receipt(bob, room, event_id)).ok()
    body = await asyncio.wait_for(poll, 2)
    assert receipts_in(body, room)


async def test_fully_read_marker_is_room_account_data(alice: User, bob: User) -> None:
    room, event_id = await room_with_message(alice, bob)
    (
        await bob.call(
            "POST",
            f"/rooms/{q(room)}/read_markers",
            {"m.fully_read": event_id, "m.read": event_id},
        )
    ).ok()
    body = await bob.sync()
    data = body["rooms"]["join"][room]["account_data"]["events"]
    assert {"type": "m.fully_read", "content": {"event_id": event_id}} in data
    (content,) = receipts_in(body, room)
    assert bob.user_id in content[event_id]["m.read"]
    # The same marker through the receipt endpoint.
    (await receipt(bob, room, event_id, "m.fully_read")).ok()


async def test_bad_receipts_change_nothing(alice: User, bob: User) -> None:
    room, event_id = await room_with_message(alice, bob)
    stranger = await alice.create_room()
    cases = [
        (await receipt(bob, room, event_id, "m.seen"), 400, "M_INVALID_PARAM"),
        (await receipt(bob, room, "$nope:test.local"), 404, "M_NOT_FOUND"),
        (await receipt(bob, stranger, event_id), 403, "M_FORBIDDEN"),
        (await receipt(bob, room, event_id, thread_id=""), 400, "M_INVALID_PARAM"),
        (await receipt(bob, room, event_id, "m.fully_read", thread_id="main"), 400, None),
        (
            await bob.call("POST", f"/rooms/{q(room)}/read_markers", {"m.read": 5}),
            400,
            "M_BAD_JSON",
        ),
    ]
    for reply, status, errcode in cases:
        assert reply.status == status, reply
        if errcode:
            assert reply.errcode == errcode, reply
    assert receipts_in(await alice.sync(), room) == []
