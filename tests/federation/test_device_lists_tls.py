"""Device lists between two real Concord servers over TLS: a room joined over
federation, then device and cross-signing changes reach the other server's users
through ``m.device_list_update`` / ``m.signing_key_update`` in ``/send`` transactions.

spec: server-server "Device Management", "End-to-End Encryption"; client-server
"Tracking the device list for a user".
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ..e2ee.crypto import CrossSigning, Device
from ..support.federation import StartFederation
from ..support.matrix_client import User, q


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not await check():
            await asyncio.sleep(0.05)


async def query(user: User, target: str) -> dict[str, Any]:
    body: dict[str, Any] = (
        await user.call("POST", "/keys/query", {"device_keys": {target: []}})
    ).ok()
    return body


async def test_device_changes_reach_the_other_server(federation: StartFederation) -> None:
    a, b = await federation(2)
    alice = await a.register("alice")
    bob = await b.register("bob")
    room = await alice.create_room(preset="public_chat")
    (await bob.call("POST", f"/join/{q(room)}", {}, params={"via": a.name})).ok()
    since = (await alice.sync())["next_batch"]
    device = Device(bob)
    (await device.upload(device_keys=device.device_keys())).ok()

    async def alice_told() -> bool:
        body = await alice.sync(since, timeout=0)
        return bob.user_id in body["device_lists"]["changed"]

    await eventually(alice_told)
    found = await query(alice, bob.user_id)
    assert list(found["device_keys"][bob.user_id]) == [bob.device_id]
    # a caches Bob's list now: cross-signing keys arrive by EDU and are served from it.
    cross = CrossSigning(bob.user_id)
    (await bob.call("POST", "/keys/device_signing/upload", cross.upload_body())).ok()

    async def master_known() -> bool:
        keys = (await query(alice, bob.user_id)).get("master_keys", {})
        return keys.get(bob.user_id, {}).get("keys") == cross.master_key()["keys"]

    await eventually(master_known)
    # A second device of Bob's shows up at a too.
    login = (await b.login("bob")).ok()
    other = User(b.http, bob.user_id, login["access_token"], login["device_id"])
    second = Device(other)
    (await second.upload(device_keys=second.device_keys())).ok()

    async def both_devices() -> bool:
        devices = (await query(alice, bob.user_id))["device_keys"].get(bob.user_id, {})
        return sorted(devices) == sorted([bob.device_id, other.device_id])

    await eventually(both_devices)
    # All of it from a's cache: b may go away.
    await b.stop()
    cached = await query(alice, bob.user_id)
    assert sorted(cached["device_keys"][bob.user_id]) == sorted([bob.device_id, other.device_id])
    assert cached["failures"] == {}
