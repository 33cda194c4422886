"""Queries across federation: a remote user's profile, and the E2EE device keys, one-time
keys and device-list updates of a remote user."""

from __future__ import annotations

import os

from homeserver.protocol.canonical import unpadded_base64
from homeserver.protocol.signing import SigningKey, sign_json

from .client import JsonDict, MxUser, q, wait_until
from .conftest import Pair
from .test_room_events import shared_room


def test_profile_query(pair: Pair) -> None:
    alice = MxUser.register(pair.a, "alice")
    bob = MxUser.register(pair.b, "bob")
    alice.ok("PUT", f"/profile/{q(alice.user_id)}/displayname", {"displayname": "Alice A"})
    alice.ok(
        "PUT", f"/profile/{q(alice.user_id)}/avatar_url", {"avatar_url": "mxc://example/alice"}
    )
    # no shared room: a plain federation profile query
    profile = bob.ok("GET", f"/profile/{q(alice.user_id)}")
    assert profile["displayname"] == "Alice A"
    assert profile["avatar_url"] == "mxc://example/alice"
    name = bob.ok("GET", f"/profile/{q(alice.user_id)}/displayname")
    assert name == {"displayname": "Alice A"}
    status, body = bob.call("GET", f"/profile/{q('@nobody-here:' + alice.server_name)}")
    assert status == 404, body


def upload_device_keys(user: MxUser, one_time: int = 0) -> JsonDict:
    """Device keys signed with the device's ed25519 key (and ``one_time`` signed one-time
    keys), uploaded as an E2EE client does; returns the device keys. The curve25519 keys are
    random bytes: servers only store and relay them."""
    key = SigningKey.generate(user.user_id, version=user.device_id)
    device_keys = sign_json(
        {
            "user_id": user.user_id,
            "device_id": user.device_id,
            "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
            "keys": {
                f"curve25519:{user.device_id}": unpadded_base64(os.urandom(32)),
                f"ed25519:{user.device_id}": unpadded_base64(bytes(key.nacl_key.verify_key)),
            },
        },
        key,
    )
    one_time_keys = {
        f"signed_curve25519:otk{i}": sign_json({"key": unpadded_base64(os.urandom(32))}, key)
        for i in range(one_time)
    }
    body: JsonDict = {"device_keys": device_keys}
    if one_time_keys:
        body["one_time_keys"] = one_time_keys
    counts = user.ok("POST", "/keys/upload", body)["one_time_key_counts"]
    assert counts.get("signed_curve25519", 0) == one_time
    return device_keys


def test_device_keys_query_and_claim(pair: Pair) -> None:
    alice = MxUser.register(pair.a, "alice")
    bob = MxUser.register(pair.b, "bob")
    device_keys = upload_device_keys(alice, one_time=2)

    reply = bob.ok("POST", "/keys/query", {"device_keys": {alice.user_id: []}})
    assert reply.get("failures", {}) == {}, reply
    got = reply["device_keys"][alice.user_id][alice.device_id]
    got.pop("unsigned", None)
    assert got == device_keys

    claim = bob.ok(
        "POST",
        "/keys/claim",
        {"one_time_keys": {alice.user_id: {alice.device_id: "signed_curve25519"}}},
    )
    assert claim.get("failures", {}) == {}, claim
    (key_id, otk), *rest = claim["one_time_keys"][alice.user_id][alice.device_id].items()
    assert not rest and key_id.startswith("signed_curve25519:") and "key" in otk
    counts = alice.ok("POST", "/keys/upload", {})["one_time_key_counts"]
    assert counts.get("signed_curve25519", 0) == 1


def test_device_list_updates(pair: Pair, room_version: str) -> None:
    alice, bob, _room = shared_room(pair, room_version)  # device lists go to room peers
    upload_device_keys(alice)
    known = bob.ok("POST", "/keys/query", {"device_keys": {alice.user_id: []}})
    assert set(known["device_keys"][alice.user_id]) == {alice.device_id}

    # a new device of alice: bob's server hears of it (m.device_list_update) and tells bob
    second = alice.login_again()
    upload_device_keys(second)
    bob.sync_until(
        lambda batch: alice.user_id in batch.get("device_lists", {}).get("changed", []),
        f"device list change of {alice.user_id}",
    )
    wait_until(
        lambda: (
            set(
                bob.ok("POST", "/keys/query", {"device_keys": {alice.user_id: []}})["device_keys"][
                    alice.user_id
                ]
            )
            == {alice.device_id, second.device_id}
        ),
        "both of alice's devices in bob's /keys/query",
    )
    # and the other way round: bob's devices as alice's server sees them
    upload_device_keys(bob)
    mine = alice.ok("POST", "/keys/query", {"device_keys": {bob.user_id: []}})
    assert set(mine["device_keys"][bob.user_id]) == {bob.device_id}
