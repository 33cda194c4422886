"""Unread notification counts in /sync (spec: ``GET /sync`` "Unread Notification
Counts"), moved by read receipts and by the user's own messages."""

from __future__ import annotations

from typing import Any

from ..support.matrix_client import User, q
from .helpers import mention, room_with


def counts(body: dict[str, Any], room_id: str) -> dict[str, int]:
    return dict(body["rooms"]["join"][room_id]["unread_notifications"])


async def test_counts_follow_messages_receipts_and_own_sends(
    alice: User, bob: User, carol: User
) -> None:
    room = await room_with(alice, bob, carol)
    since = (await alice.sync())["next_batch"]
    await bob.send(room, "hello all")
    last = await carol.send(room, "hey alice", **mention(alice.user_id))
    body = await alice.sync(since)
    assert counts(body, room) == {"notification_count": 2, "highlight_count": 1}
    # Reading up to the mention clears both.
    path = f"/rooms/{q(room)}/receipt/m.read/{q(last)}"
    (await alice.call("POST", path, {})).ok()
    read = await alice.sync(body["next_batch"])
    assert counts(read, room) == {"notification_count": 0, "highlight_count": 0}
    # A new message counts again; answering in the room reads it.
    await bob.send(room, "one more")
    again = await alice.sync(read["next_batch"])
    assert counts(again, room) == {"notification_count": 1, "highlight_count": 0}
    await alice.send(room, "answering")
    answered = await alice.sync(again["next_batch"])
    assert counts(answered, room) == {"notification_count": 0, "highlight_count": 0}


async def test_a_private_receipt_clears_counts_too(alice: User, bob: User, carol: User) -> None:
    room = await room_with(alice, bob, carol)
    event_id = await bob.send(room, "psst")
    assert counts(await alice.sync(), room)["notification_count"] == 1
    path = f"/rooms/{q(room)}/receipt/m.read.private/{q(event_id)}"
    (await alice.call("POST", path, {})).ok()
    assert counts(await alice.sync(), room)["notification_count"] == 0
