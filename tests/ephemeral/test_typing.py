"""Typing notifications as clients see them (spec: client-server "Typing Notifications")."""

from __future__ import annotations

import asyncio
from typing import Any

from homeserver.appkeys import NOTIFIER_KEY

from ..support.matrix_client import Server, User, q


def typing_in(body: dict[str, Any], room_id: str) -> list[list[str]]:
    room = body["rooms"]["join"].get(room_id, {})
    return [
        e["content"]["user_ids"]
        for e in room.get("ephemeral", {}).get("events", [])
        if e["type"] == "m.typing"
    ]


async def set_typing(user: User, room: str, typing: bool, **extra: Any) -> Any:
    path = f"/rooms/{q(room)}/typing/{q(user.user_id)}"
    return await user.call("PUT", path, {"typing": typing, **extra})


async def test_typing_reaches_the_other_member_and_stops(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    since = (await bob.sync())["next_batch"]
    (await set_typing(alice, room, True, timeout=10_000)).ok()
    body = await bob.sync(since)
    assert typing_in(body, room) == [[alice.user_id]]
    (await set_typing(alice, room, False)).ok()
    again = await bob.sync(body["next_batch"])
    assert typing_in(again, room) == [[]]
    # Nothing changed since: no typing event, and the room is not listed for it.
    quiet = await bob.sync(again["next_batch"])
    assert typing_in(quiet, room) == []


async def test_initial_sync_shows_who_is_typing_now(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    (await set_typing(alice, room, True, timeout=10_000)).ok()
    assert typing_in(await bob.sync(), room) == [[alice.user_id]]


async def test_typing_wakes_a_long_poll(server: Server, alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    since = (await bob.sync())["next_batch"]
    poll = asyncio.create_task(bob.sync(since, timeout=10_000))
    notifier = server.app[NOTIFIER_KEY]
    while notifier.waiting == 0:
        await asyncio.sleep(0.005)
    (await set_typing(alice, room, True, timeout=10_000)).ok()
    body = await asyncio.wait_for(poll, 2)
    assert typing_in(body, room) == [[alice.user_id]]


async def test_typing_expires_after_its_timeout(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    since = (await bob.sync())["next_batch"]
    (await set_typing(alice, room, True, timeout=50)).ok()
    await asyncio.sleep(0.2)
    body = await bob.sync(since)
    # Started and stopped since the token: the current list, empty.
    assert typing_in(body, room) == [[]]


async def test_bad_typing_requests_change_nothing(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    for_bob = await alice.call("PUT", f"/rooms/{q(room)}/typing/{q(bob.user_id)}", {"typing": True})
    assert (for_bob.status, for_bob.errcode) == (403, "M_FORBIDDEN")
    outsider = await set_typing(bob, room, True)
    assert (outsider.status, outsider.errcode) == (403, "M_FORBIDDEN")
    bad = await set_typing(alice, room, "yes")  # type: ignore[arg-type]
    assert (bad.status, bad.errcode) == (400, "M_BAD_JSON")
    bad_timeout = await set_typing(alice, room, True, timeout=-5)
    assert (bad_timeout.status, bad_timeout.errcode) == (400, "M_BAD_JSON")
    assert typing_in(await alice.sync(), room) == []


async def test_ephemeral_filter_can_leave_typing_out(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    (await set_typing(alice, room, True, timeout=10_000)).ok()
    body = await bob.sync(filter='{"room": {"ephemeral": {"not_types": ["m.typing"]}}}')
    assert typing_in(body, room) == []
