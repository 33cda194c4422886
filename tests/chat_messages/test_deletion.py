"""Deleting a message is a redaction (spec: client-server "Redactions"): the sender
may delete their own; others need the channel's ``redact`` level, which the
permission compiler gives to roles with ``delete_messages`` and to Admins."""

from __future__ import annotations

from typing import Any

from ..support.matrix_client import User, q


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
