"""Device lists across servers: a server tells the servers sharing a room with its user
about each device change (``m.device_list_update``, chained by ``prev_id``) and each
cross-signing change (``m.signing_key_update``); the receiver keeps a cache, resyncs
with ``/user/devices`` when it misses one, and shows the user in its local users'
``device_lists.changed``.

spec: server-server "Device Management", "End-to-End Encryption"; client-server
"Tracking the device list for a user".
"""

from __future__ import annotations

import asyncio
from typing import Any

from federation.queries_setup import REMOTE_DEVICE_LISTS_KEY
from homeserver.appkeys import PIPELINE_KEY, STORE_KEY

from ..e2ee.crypto import CrossSigning, Device
from ..support.matrix_client import User, q
from .conftest import Peers
from .fake_peers import remote_user_joins

FED = "/_matrix/federation/v1"


async def share_rooms(peers: Peers, alice: User, bob: User) -> str:
    """Alice (a.test) and Bob (b.test) in a room, as each server sees it."""
    room_a = await alice.create_room(preset="public_chat")
    await remote_user_joins(peers.a.app, room_a, [bob.user_id])
    room_b = await bob.create_room(preset="public_chat")
    await remote_user_joins(peers.b.app, room_b, [alice.user_id])
    return room_a


def updates(peers: Peers, edu_type: str = "m.device_list_update") -> list[dict[str, Any]]:
    return [c for _, _, t, c in peers.network.edus if t == edu_type]


async def query(user: User, target: str) -> dict[str, Any]:
    body: dict[str, Any] = (
        await user.call("POST", "/keys/query", {"device_keys": {target: []}})
    ).ok()
    return body


async def test_updates_flow_in_order_and_fill_the_cache(peers: Peers) -> None:
    alice = await peers.a.register("alice")
    bob = await peers.b.register("bob")
    await share_rooms(peers, alice, bob)
    since = (await alice.sync())["next_batch"]
    first = Device(bob)
    (await first.upload(device_keys=first.device_keys())).ok()
    (sent,) = updates(peers)
    assert sent["user_id"] == bob.user_id and sent["device_id"] == bob.device_id
    assert sent["stream_id"] == 1 and sent["prev_id"] == []
    assert sent["keys"]["keys"] == first.device_keys()["keys"]
    # The first update of a user we do not cache yet: a.test fetches the whole list.
    assert await peers.network.deliver() == 1
    await settle(peers)
    body = await alice.sync(since)
    assert bob.user_id in body["device_lists"]["changed"]
    # From now on a.test answers from its cache, even with b.test unreachable.
    b_test = peers.network.peers.pop("b.test")
    cached = await query(alice, bob.user_id)
    assert list(cached["device_keys"][bob.user_id]) == [bob.device_id]
    assert cached["failures"] == {}
    peers.network.peers["b.test"] = b_test
    # A second device: the update follows the first (prev_id) and is applied as is.
    bob2 = User(peers.b.http, bob.user_id, *(await login(peers, "bob")))
    second = Device(bob2)
    (await second.upload(device_keys=second.device_keys())).ok()
    (sent,) = updates(peers)
    assert sent["stream_id"] == 2 and sent["prev_id"] == [1]
    since = body["next_batch"]
    requests = len(peers.network.requests)
    await peers.network.deliver()
    assert len(peers.network.requests) == requests  # no resync needed
    assert bob.user_id in (await alice.sync(since))["device_lists"]["changed"]
    peers.network.peers.pop("b.test")
    cached = await query(alice, bob.user_id)
    assert sorted(cached["device_keys"][bob.user_id]) == sorted([bob.device_id, bob2.device_id])
    peers.network.peers["b.test"] = b_test
    # A deleted device goes from the cache too.
    (
        await peers.b.with_password(
            "DELETE", f"/devices/{bob2.device_id}", {}, token=bob.token, user="bob"
        )
    ).ok()
    deleted = [u for u in updates(peers) if u.get("deleted")]
    assert [u["device_id"] for u in deleted] == [bob2.device_id]
    await peers.network.deliver()
    peers.network.peers.pop("b.test")
    assert list((await query(alice, bob.user_id))["device_keys"][bob.user_id]) == [bob.device_id]


async def login(peers: Peers, name: str) -> tuple[str, str]:
    body = (await peers.b.login(name)).ok()
    return body["access_token"], body["device_id"]


async def settle(peers: Peers) -> None:
    """Wait for background resyncs."""
    for server in (peers.a, peers.b):
        lists = server.app[REMOTE_DEVICE_LISTS_KEY]
        while lists._resyncs or lists._tasks:
            await asyncio.sleep(0.01)


async def test_a_lost_update_means_a_resync(peers: Peers) -> None:
    alice = await peers.a.register("alice")
    bob = await peers.b.register("bob")
    await share_rooms(peers, alice, bob)
    device = Device(bob)
    (await device.upload(device_keys=device.device_keys())).ok()
    await peers.network.deliver()
    await settle(peers)
    # Two more devices; the first update is lost on the way.
    others = []
    for _ in range(2):
        other = User(peers.b.http, bob.user_id, *(await login(peers, "bob")))
        dev = Device(other)
        (await dev.upload(device_keys=dev.device_keys())).ok()
        others.append(other)
    lost = others[0].device_id
    await peers.network.deliver(only=lambda dest, t, c: c.get("device_id") != lost)
    await settle(peers)
    resyncs = [r for r in peers.network.requests if "/user/devices/" in r[2]]
    assert len(resyncs) == 2  # the first sight of Bob, and the gap
    peers.network.peers.pop("b.test")
    devices = (await query(alice, bob.user_id))["device_keys"][bob.user_id]
    assert sorted(devices) == sorted([bob.device_id, *(o.device_id for o in others)])


async def test_cross_signing_updates(peers: Peers) -> None:
    alice = await peers.a.register("alice")
    bob = await peers.b.register("bob")
    await share_rooms(peers, alice, bob)
    device = Device(bob)
    (await device.upload(device_keys=device.device_keys())).ok()
    await peers.network.deliver()
    await settle(peers)
    since = (await alice.sync())["next_batch"]
    cross = CrossSigning(bob.user_id)
    (await bob.call("POST", "/keys/device_signing/upload", cross.upload_body())).ok()
    (signing,) = updates(peers, "m.signing_key_update")
    assert signing["master_key"]["keys"] == cross.master_key()["keys"]
    assert "user_signing_key" not in signing
    await peers.network.deliver()
    assert bob.user_id in (await alice.sync(since))["device_lists"]["changed"]
    peers.network.peers.pop("b.test")
    cached = await query(alice, bob.user_id)
    assert cached["master_keys"][bob.user_id]["keys"] == cross.master_key()["keys"]
    assert cached["self_signing_keys"][bob.user_id]["keys"] == cross.self_signing_key()["keys"]


async def test_updates_not_ours_to_track_are_ignored(peers: Peers) -> None:
    alice = await peers.a.register("alice")
    bob = await peers.b.register("bob")
    carol = await peers.b.register("carol")
    room = await share_rooms(peers, alice, bob)
    registry = peers.network.registries["a.test"]
    update = {"user_id": bob.user_id, "device_id": "X", "stream_id": 9, "keys": {}}
    since = (await alice.sync())["next_batch"]
    # Sent by another server than the user's: dropped.
    await registry.handle("c.test", {"edu_type": "m.device_list_update", "content": update})
    # About a user sharing no room with a local user: ignored.
    carol_update = {**update, "user_id": carol.user_id}
    await registry.handle("b.test", {"edu_type": "m.device_list_update", "content": carol_update})
    # Malformed: dropped.
    await registry.handle(
        "b.test", {"edu_type": "m.device_list_update", "content": {"user_id": bob.user_id}}
    )
    await settle(peers)
    assert not [r for r in peers.network.requests if "/user/devices/" in r[2]]
    assert (await alice.sync(since, timeout=0))["device_lists"]["changed"] == []
    # Bob leaves: a.test stops caching him.
    device = Device(bob)
    (await device.upload(device_keys=device.device_keys())).ok()
    await peers.network.deliver()
    await settle(peers)
    store = peers.a.app[STORE_KEY]
    assert bob.user_id in await store.remote_devices.tracked([bob.user_id])
    await peers.a.app[PIPELINE_KEY].send(
        room, bob.user_id, "m.room.member", {"membership": "leave"}, state_key=bob.user_id
    )
    await settle(peers)
    assert await store.remote_devices.tracked([bob.user_id]) == {}


async def test_serving_user_devices(peers: Peers) -> None:
    bob = await peers.b.register("bob")
    device = Device(bob)
    (await device.upload(device_keys=device.device_keys())).ok()
    cross = CrossSigning(bob.user_id)
    (await bob.call("POST", "/keys/device_signing/upload", cross.upload_body())).ok()
    status, body = await peers.fed("GET", f"{FED}/user/devices/{q(bob.user_id)}")
    assert status == 200
    assert body["user_id"] == bob.user_id and body["stream_id"] >= 1
    assert [d["device_id"] for d in body["devices"]] == [bob.device_id]
    assert body["master_key"]["keys"] == cross.master_key()["keys"]
    assert "user_signing_key" not in body
    status, body = await peers.fed("GET", f"{FED}/user/devices/{q('@alice:a.test')}")
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")
    status, body = await peers.fed("GET", f"{FED}/user/devices/{q('@ghost:b.test')}")
    assert status == 404
    resp = await peers.b.http.get(f"{FED}/user/devices/{q(bob.user_id)}")
    assert resp.status == 401


async def test_a_device_rename_is_announced(peers: Peers) -> None:
    alice = await peers.a.register("alice")
    bob = await peers.b.register("bob")
    await share_rooms(peers, alice, bob)
    device = Device(bob)
    (await device.upload(device_keys=device.device_keys())).ok()
    await peers.network.deliver()
    await settle(peers)
    (await bob.call("PUT", f"/devices/{bob.device_id}", {"display_name": "Phone"})).ok()
    (sent,) = updates(peers)
    assert sent["device_display_name"] == "Phone" and sent["prev_id"] == [1]
    await peers.network.deliver()
    peers.network.peers.pop("b.test")
    cached = (await query(alice, bob.user_id))["device_keys"][bob.user_id][bob.device_id]
    assert cached["unsigned"] == {"device_display_name": "Phone"}
