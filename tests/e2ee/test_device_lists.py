"""Device-list tracking: ``device_lists`` in ``/sync`` and ``GET /keys/changes``
(spec: client-server "Tracking the device list for a user", "Extensions to /sync")."""

from __future__ import annotations

import asyncio
from typing import Any

from homeserver.appkeys import NOTIFIER_KEY

from ..support.matrix_client import Server, User
from .crypto import Device


def lists(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    return body["device_lists"]["changed"], body["device_lists"]["left"]


async def changes(user: User, from_: str, to: str) -> tuple[list[str], list[str]]:
    body = (await user.call("GET", "/keys/changes", params={"from": from_, "to": to})).ok()
    return body["changed"], body["left"]


async def upload_keys(user: User) -> Device:
    device = Device(user)
    (await device.upload(device_keys=device.device_keys())).ok()
    return device


async def test_key_changes_reach_room_mates_only(alice: User, bob: User, carol: User) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    alice_since = (await alice.sync())["next_batch"]
    carol_since = (await carol.sync())["next_batch"]
    await upload_keys(bob)
    body = await alice.sync(alice_since)
    assert lists(body) == ([bob.user_id], [])
    assert await changes(alice, alice_since, body["next_batch"]) == ([bob.user_id], [])
    # Carol shares no room with Bob: she is not told.
    carol_body = await carol.sync(carol_since)
    assert lists(carol_body) == ([], [])
    assert await changes(carol, carol_since, carol_body["next_batch"]) == ([], [])
    # Nothing new since: not listed again.
    assert lists(await alice.sync(body["next_batch"])) == ([], [])
    # Bob's own other devices track him too.
    bob_since = (await bob.sync())["next_batch"]
    await upload_keys(bob)  # keys of the same device that changed (another key set)
    assert lists(await bob.sync(bob_since))[0] == [bob.user_id]
    # A rename is not a change of the device list.
    since = (await alice.sync())["next_batch"]
    (await bob.call("PUT", f"/devices/{bob.device_id}", {"display_name": "new"})).ok()
    assert lists(await alice.sync(since)) == ([], [])


async def test_joining_and_leaving_rooms(alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    since = (await alice.sync())["next_batch"]
    (await bob.join(room)).ok()
    joined = await alice.sync(since)
    # Bob now shares a room with Alice: his devices may be new to her.
    assert lists(joined) == ([bob.user_id], [])
    # And Bob, who joined, learns about Alice.
    (await bob.leave(room)).ok()
    left = await alice.sync(joined["next_batch"])
    assert lists(left) == ([], [bob.user_id])
    assert await changes(alice, since, left["next_batch"]) == ([], [bob.user_id])
    assert await changes(alice, since, joined["next_batch"]) == ([bob.user_id], [])
    # Once gone, Bob's key changes are not Alice's business.
    await upload_keys(bob)
    assert lists(await alice.sync(left["next_batch"])) == ([], [])


async def test_joiner_learns_about_the_members(alice: User, bob: User, carol: User) -> None:
    room = await alice.create_room(preset="public_chat")
    (await carol.join(room)).ok()
    since = (await bob.sync())["next_batch"]
    (await bob.join(room)).ok()
    body = await bob.sync(since)
    assert lists(body) == (sorted([alice.user_id, carol.user_id]), [])
    # Leaving: everyone he no longer shares a room with.
    other = await alice.create_room(preset="public_chat")
    (await bob.join(other)).ok()
    mid = (await bob.sync(body["next_batch"]))["next_batch"]
    (await bob.leave(room)).ok()
    # Alice still shares ``other`` with Bob; Carol does not.
    assert lists(await bob.sync(mid)) == ([], [carol.user_id])


async def test_deleted_device_and_new_login_are_changes(
    server: Server, alice: User, bob: User
) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    since = (await alice.sync())["next_batch"]
    login = (await server.login("bob")).ok()
    body = await alice.sync(since)
    assert lists(body) == ([bob.user_id], [])
    (
        await server.with_password(
            "DELETE", f"/devices/{login['device_id']}", {}, token=bob.token, user="bob"
        )
    ).ok()
    assert lists(await alice.sync(body["next_batch"])) == ([bob.user_id], [])


async def test_a_key_change_wakes_the_long_poll(server: Server, alice: User, bob: User) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    since = (await alice.sync())["next_batch"]
    poll = asyncio.create_task(alice.sync(since, timeout=10_000))
    notifier = server.app[NOTIFIER_KEY]
    while notifier.waiting == 0:
        await asyncio.sleep(0.005)
    await upload_keys(bob)
    body = await asyncio.wait_for(poll, 5)
    assert lists(body) == ([bob.user_id], [])


async def test_changes_needs_tokens(alice: User) -> None:
    missing = await alice.call("GET", "/keys/changes", params={"to": "s1"})
    assert (missing.status, missing.errcode) == (400, "M_MISSING_PARAM")
    bad = await alice.call("GET", "/keys/changes", params={"from": "nope", "to": "s1"})
    assert (bad.status, bad.errcode) == (400, "M_INVALID_PARAM")
    # An initial sync has no device_lists news.
    assert lists(await alice.sync()) == ([], [])
