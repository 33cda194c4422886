"""Keys of users on other servers: ``/keys/query`` and ``/keys/claim`` fan out, one
request per server; the other server answers ``/user/keys/query`` and
``/user/keys/claim`` for its own users.

spec: client-server "Key management API"; server-server "End-to-End Encryption".
"""

from __future__ import annotations

from ..e2ee.crypto import CrossSigning, Device
from .conftest import Peers

FED = "/_matrix/federation/v1"


async def test_query_and_claim_remote_keys(peers: Peers) -> None:
    alice = await peers.a.register("alice")
    bob = await peers.b.register("bob")
    carol = await peers.b.register("carol")
    device = Device(bob)
    (
        await device.upload(device_keys=device.device_keys(), one_time_keys=device.one_time_keys(2))
    ).ok()
    cross = CrossSigning(bob.user_id)
    (await bob.call("POST", "/keys/device_signing/upload", cross.upload_body())).ok()
    requests = len(peers.network.requests)
    body = (
        await alice.call(
            "POST",
            "/keys/query",
            {
                "device_keys": {bob.user_id: [], carol.user_id: [], "@dan:c.test": []},
                "timeout": 5000,
            },
        )
    ).ok()
    # One request for both b.test users; c.test cannot be reached.
    b_requests = [r for r in peers.network.requests[requests:] if r[2].endswith("keys/query")]
    assert len([r for r in b_requests if r[1] == "b.test"]) == 1
    keys = body["device_keys"][bob.user_id][bob.device_id]
    assert keys["keys"] == device.device_keys()["keys"]
    assert body["device_keys"][carol.user_id] == {}
    assert body["master_keys"][bob.user_id]["keys"] == cross.master_key()["keys"]
    assert bob.user_id in body["self_signing_keys"]
    # The user-signing key never leaves its owner's server.
    assert bob.user_id not in body.get("user_signing_keys", {})
    assert set(body["failures"]) == {"c.test"}
    # Claims go to the owner's server, which hands out each key once.
    claim = {"one_time_keys": {bob.user_id: {bob.device_id: "signed_curve25519"}}}
    first = (await alice.call("POST", "/keys/claim", claim)).ok()
    second = (await alice.call("POST", "/keys/claim", claim)).ok()
    (k1,) = first["one_time_keys"][bob.user_id][bob.device_id]
    (k2,) = second["one_time_keys"][bob.user_id][bob.device_id]
    assert k1 != k2 and first["failures"] == {}
    third = (await alice.call("POST", "/keys/claim", claim)).ok()
    assert third["one_time_keys"] == {}
    down = (
        await alice.call(
            "POST", "/keys/claim", {"one_time_keys": {"@dan:c.test": {"D": "signed_curve25519"}}}
        )
    ).ok()
    assert down["one_time_keys"] == {} and set(down["failures"]) == {"c.test"}


async def test_serving_user_keys(peers: Peers) -> None:
    bob = await peers.b.register("bob")
    device = Device(bob)
    (
        await device.upload(device_keys=device.device_keys(), one_time_keys=device.one_time_keys(1))
    ).ok()
    status, body = await peers.fed(
        "POST",
        FED + "/user/keys/query",
        body={"device_keys": {bob.user_id: [bob.device_id], "@alice:a.test": []}},
    )
    assert status == 200
    # Only local users are answered.
    assert set(body["device_keys"]) == {bob.user_id}
    assert "user_signing_keys" not in body
    status, body = await peers.fed("POST", FED + "/user/keys/query", body={"device_keys": []})
    assert (status, body["errcode"]) == (400, "M_BAD_JSON")
    status, body = await peers.fed(
        "POST",
        FED + "/user/keys/claim",
        body={"one_time_keys": {bob.user_id: {bob.device_id: "signed_curve25519"}}},
    )
    claimed = body["one_time_keys"]
    assert list(claimed[bob.user_id][bob.device_id]) == ["signed_curve25519:AAAA0001"]
    status, body = await peers.fed("POST", FED + "/user/keys/claim", body={})
    assert status == 400
    # Unsigned: refused.
    resp = await peers.b.http.post(FED + "/user/keys/query", json={"device_keys": {}})
    assert resp.status == 401
