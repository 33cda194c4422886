"""Cross-signing keys and signatures (spec: client-server "Cross-signing",
``/keys/device_signing/upload``, ``/keys/signatures/upload``), with real ed25519 keys."""

from __future__ import annotations

from typing import Any

from ..support.matrix_client import Server, User
from .crypto import CrossSigning, Device, Ed25519

UPLOAD = "/keys/device_signing/upload"


async def query(user: User, *users: str) -> Any:
    body = {"device_keys": {u: [] for u in users}}
    return (await user.call("POST", "/keys/query", body)).ok()


async def signatures(user: User, body: dict[str, Any]) -> Any:
    return (await user.call("POST", "/keys/signatures/upload", body)).ok()


async def test_upload_with_uia_and_query(server: Server, alice: User, bob: User) -> None:
    keys = CrossSigning(alice.user_id)
    # No master key yet: no UIA.
    (await alice.call("POST", UPLOAD, keys.upload_body())).ok()
    # The same keys again (a retried request): still no UIA.
    (await alice.call("POST", UPLOAD, keys.upload_body())).ok()

    mine = await query(alice, alice.user_id)
    assert mine["master_keys"][alice.user_id] == keys.master_key()
    assert mine["self_signing_keys"][alice.user_id] == keys.self_signing_key()
    assert mine["user_signing_keys"][alice.user_id] == keys.user_signing_key()
    # Others see the master and self-signing keys, never the user-signing key.
    theirs = await query(bob, alice.user_id)
    assert theirs["master_keys"] == {alice.user_id: keys.master_key()}
    assert theirs["self_signing_keys"] == {alice.user_id: keys.self_signing_key()}
    assert theirs["user_signing_keys"] == {}

    # Replacing keys needs the password.
    new = CrossSigning(alice.user_id)
    first = await alice.call("POST", UPLOAD, new.upload_body())
    assert first.status == 401 and {"stages": ["m.login.password"]} in first.body["flows"]
    assert (await query(bob, alice.user_id))["master_keys"][alice.user_id] == keys.master_key()
    wrong = await alice.call(
        "POST",
        UPLOAD,
        {
            **new.upload_body(),
            "auth": {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": "alice"},
                "password": "wrong",
                "session": first.body["session"],
            },
        },
    )
    assert (wrong.status, wrong.errcode) == (401, "M_FORBIDDEN")
    (
        await server.with_password(
            "POST", UPLOAD, new.upload_body(), token=alice.token, user="alice"
        )
    ).ok()
    assert (await query(bob, alice.user_id))["master_keys"][alice.user_id] == new.master_key()
    # A new self-signing key alone, signed by the stored master key.
    newer = CrossSigning(alice.user_id)
    newer.master = new.master
    body = {"self_signing_key": newer.self_signing_key()}
    (await server.with_password("POST", UPLOAD, body, token=alice.token, user="alice")).ok()
    assert (await query(bob, alice.user_id))["self_signing_keys"][
        alice.user_id
    ] == newer.self_signing_key()


async def test_bad_cross_signing_uploads(alice: User, bob: User) -> None:
    keys = CrossSigning(alice.user_id)
    # A self-signing key without any master key.
    reply = await alice.call("POST", UPLOAD, {"self_signing_key": keys.self_signing_key()})
    assert (reply.status, reply.errcode) == (400, "M_MISSING_PARAM")
    # Signed by another key than the master key.
    forged = CrossSigning(alice.user_id)
    forged.master = Ed25519()
    body = {"master_key": keys.master_key(), "self_signing_key": forged.self_signing_key()}
    reply = await alice.call("POST", UPLOAD, body)
    assert (reply.status, reply.errcode) == (400, "M_INVALID_SIGNATURE")
    # Someone else's key, a wrong usage, two keys, a key id that is not the key.
    master = keys.master_key()
    for bad in (
        {**master, "user_id": bob.user_id},
        {**master, "usage": ["self_signing"]},
        {**master, "keys": {**master["keys"], "ed25519:other": "other"}},
        {**master, "keys": {"ed25519:abc": keys.master.public}},
    ):
        reply = await alice.call("POST", UPLOAD, {"master_key": bad})
        assert (reply.status, reply.errcode) == (400, "M_INVALID_PARAM"), bad
    reply = await alice.call("POST", UPLOAD, {"master_key": "key"})
    assert (reply.status, reply.errcode) == (400, "M_BAD_JSON")
    # A public key equal to one of the user's device ids.
    clash = {
        "user_id": alice.user_id,
        "usage": ["master"],
        "keys": {f"ed25519:{alice.device_id}": alice.device_id},
    }
    reply = await alice.call("POST", UPLOAD, {"master_key": clash})
    assert (reply.status, reply.errcode) == (403, "M_FORBIDDEN")
    # Nothing was stored.
    assert (await query(bob, alice.user_id))["master_keys"] == {}


async def test_signatures_upload(alice: User, bob: User, carol: User) -> None:
    room = await alice.create_room(preset="public_chat")
    (await bob.join(room)).ok()
    device = Device(alice)
    (await device.upload(device_keys=device.device_keys())).ok()
    keys = CrossSigning(alice.user_id)
    (await alice.call("POST", UPLOAD, keys.upload_body())).ok()
    bob_keys = CrossSigning(bob.user_id)
    (await bob.call("POST", UPLOAD, bob_keys.upload_body())).ok()
    bob_since = (await bob.sync())["next_batch"]

    # Alice's self-signing key signs her device; her device signs her master key.
    signed_device = keys.self_signing.sign(device.device_keys(), alice.user_id)
    signed_master = device.sign(keys.master_key())
    body = {alice.user_id: {alice.device_id: signed_device, keys.master.public: signed_master}}
    assert await signatures(alice, body) == {"failures": {}}
    seen_by_bob = await query(bob, alice.user_id)
    got = seen_by_bob["device_keys"][alice.user_id][alice.device_id]
    assert got["signatures"] == signed_device["signatures"]
    assert seen_by_bob["master_keys"][alice.user_id]["signatures"] == signed_master["signatures"]
    # Bob shares a room with Alice: her keys changed for him.
    assert (await bob.sync(bob_since))["device_lists"]["changed"] == [alice.user_id]

    # Alice's user-signing key signs Bob's master key: only Alice sees that signature.
    alice_since = (await alice.sync())["next_batch"]
    bob_since = (await bob.sync())["next_batch"]
    signed_bob = keys.user_signing.sign(bob_keys.master_key(), alice.user_id)
    assert await signatures(alice, {bob.user_id: {bob_keys.master.public: signed_bob}}) == {
        "failures": {}
    }
    assert (await query(alice, bob.user_id))["master_keys"][bob.user_id][
        "signatures"
    ] == signed_bob["signatures"]
    assert "signatures" not in (await query(bob, bob.user_id))["master_keys"][bob.user_id]
    assert "signatures" not in (await query(carol, bob.user_id))["master_keys"][bob.user_id]
    assert (await alice.sync(alice_since))["device_lists"]["changed"] == [bob.user_id]
    assert (await bob.sync(bob_since))["device_lists"]["changed"] == []

    # Failures, one per bad key; the good ones in the same request still count.
    forged = Ed25519().sign(device.device_keys(), alice.user_id, keys.self_signing.public)
    tampered = keys.self_signing.sign({**device.device_keys(), "algorithms": []}, alice.user_id)
    body = {
        alice.user_id: {alice.device_id: forged, "UNKNOWN": signed_device},
        bob.user_id: {bob.device_id: tampered},
        "@x:elsewhere.example": {"KEY": signed_device},
    }
    result = await signatures(alice, body)
    failures = result["failures"]
    assert failures[alice.user_id][alice.device_id]["errcode"] == "M_INVALID_SIGNATURE"
    assert failures[alice.user_id]["UNKNOWN"]["errcode"] == "M_NOT_FOUND"
    assert failures[bob.user_id][bob.device_id]["errcode"] == "M_NOT_FOUND"
    assert set(failures["@x:elsewhere.example"]) == {"KEY"}
    tampered_own = {alice.user_id: {alice.device_id: tampered}}
    failure = (await signatures(alice, tampered_own))["failures"][alice.user_id][alice.device_id]
    assert failure["errcode"] == "M_INVALID_PARAM"
    bad = await alice.call("POST", "/keys/signatures/upload", {alice.user_id: []})
    assert (bad.status, bad.errcode) == (400, "M_BAD_JSON")
    # The stored signature is still the good one.
    got = (await query(bob, alice.user_id))["device_keys"][alice.user_id][alice.device_id]
    assert got["signatures"] == signed_device["signatures"]
