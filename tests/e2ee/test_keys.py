"""``/keys/upload``, ``/keys/query`` and ``/keys/claim`` (spec: client-server
"End-to-End Encryption", "Key management API"), and the key counts in ``/sync``."""

from __future__ import annotations

import asyncio
from typing import Any

from ..support.matrix_client import Server, User
from .crypto import Device

SCC = "signed_curve25519"


async def query(user: User, wanted: dict[str, list[str]]) -> Any:
    return (await user.call("POST", "/keys/query", {"device_keys": wanted})).ok()


async def claim(user: User, wanted: dict[str, dict[str, str]]) -> Any:
    return (await user.call("POST", "/keys/claim", {"one_time_keys": wanted})).ok()


async def test_upload_then_query_device_keys(alice: User, bob: User) -> None:
    (await alice.call("PUT", f"/devices/{alice.device_id}", {"display_name": "phone"})).ok()
    device = Device(alice)
    reply = (await device.upload(device_keys=device.device_keys())).ok()
    assert reply == {"one_time_key_counts": {SCC: 0}}

    body = await query(bob, {alice.user_id: [], bob.user_id: []})
    assert body["failures"] == {}
    # Bob has no keys: his entry is there, empty.
    assert body["device_keys"][bob.user_id] == {}
    got = body["device_keys"][alice.user_id][alice.device_id]
    assert got["unsigned"] == {"device_display_name": "phone"}
    assert {k: v for k, v in got.items() if k != "unsigned"} == device.device_keys()
    # A device id asked for explicitly; an unknown one is just missing.
    one = await query(bob, {alice.user_id: [alice.device_id, "NOPE"]})
    assert list(one["device_keys"][alice.user_id]) == [alice.device_id]
    # Remote users cannot be reached yet: a failure for their server.
    remote = await query(bob, {"@someone:elsewhere.example": []})
    assert remote["device_keys"] == {}
    assert set(remote["failures"]) == {"elsewhere.example"}


async def test_upload_refuses_bad_keys_and_changes_nothing(alice: User, bob: User) -> None:
    device = Device(alice)
    (
        await device.upload(device_keys=device.device_keys(), one_time_keys=device.one_time_keys(2))
    ).ok()
    keys = device.device_keys()

    for bad, errcode in [
        ({**keys, "user_id": bob.user_id}, "M_INVALID_PARAM"),
        ({**keys, "device_id": "OTHER"}, "M_INVALID_PARAM"),
        ({**keys, "algorithms": "olm"}, "M_BAD_JSON"),
        ({**keys, "keys": {"nocolon": "x"}}, "M_INVALID_PARAM"),
        ({**keys, "signatures": []}, "M_BAD_JSON"),
        ("keys", "M_BAD_JSON"),
    ]:
        reply = await device.upload(device_keys=bad)
        assert (reply.status, reply.errcode) == (400, errcode), bad
    for bad_otks, errcode in [
        ({"no_colon": {"key": "k", "signatures": {}}}, "M_INVALID_PARAM"),
        ({f"{SCC}:X": 5}, "M_BAD_JSON"),
        ({f"{SCC}:X": {"signatures": {}}}, "M_BAD_JSON"),
        ([], "M_BAD_JSON"),
    ]:
        reply = await device.upload(one_time_keys=bad_otks)
        assert (reply.status, reply.errcode) == (400, errcode), bad_otks
    two_fallbacks = device.one_time_keys(2, fallback=True)
    reply = await device.upload(fallback_keys=two_fallbacks)
    assert (reply.status, reply.errcode) == (400, "M_INVALID_PARAM")

    # The same one-time key id with another key: refused, the whole upload with it.
    existing = dict(device.one_time_keys(1))
    (await device.upload(one_time_keys=existing)).ok()
    key_id = next(iter(existing))
    changed = {key_id: device.sign({"key": "another"}), **device.one_time_keys(3)}
    reply = await device.upload(one_time_keys=changed)
    assert (reply.status, reply.errcode) == (400, "M_INVALID_PARAM")
    # The same key again is fine (a retried upload), and counts once.
    again = (await device.upload(one_time_keys=existing)).ok()
    assert again["one_time_key_counts"] == {SCC: 3}
    stored = await query(bob, {alice.user_id: []})
    assert stored["device_keys"][alice.user_id][alice.device_id]["keys"] == keys["keys"]
    no_token = await alice.call("POST", "/keys/upload", {}, auth=False)
    assert (no_token.status, no_token.errcode) == (401, "M_MISSING_TOKEN")


async def test_claim_hands_out_each_key_once_then_the_fallback(alice: User, bob: User) -> None:
    device = Device(alice)
    otks = device.one_time_keys(2)
    fallback = device.one_time_keys(1, fallback=True)
    counts = (
        await device.upload(
            device_keys=device.device_keys(), one_time_keys=otks, fallback_keys=fallback
        )
    ).ok()
    assert counts["one_time_key_counts"] == {SCC: 2}
    synced = await alice.sync()
    assert synced["device_one_time_keys_count"] == {SCC: 2}
    assert synced["device_unused_fallback_key_types"] == [SCC]

    wanted = {alice.user_id: {alice.device_id: SCC}}
    got = []
    for _ in range(2):
        body = await claim(bob, wanted)
        assert body["failures"] == {}
        got.append(body["one_time_keys"][alice.user_id][alice.device_id])
    # In upload order... within one upload any order: both, each once.
    assert sorted(k for keys in got for k in keys) == sorted(otks)
    for keys in got:
        ((key_id, key),) = keys.items()
        assert key == otks[key_id]
    after = await alice.sync(synced["next_batch"])
    assert after["device_one_time_keys_count"] == {SCC: 0}
    assert after["device_unused_fallback_key_types"] == [SCC]

    # None left: the fallback key, again and again, now marked used.
    for _ in range(2):
        body = await claim(bob, wanted)
        assert body["one_time_keys"][alice.user_id][alice.device_id] == fallback
    used = await alice.sync(after["next_batch"])
    assert used["device_unused_fallback_key_types"] == []
    # Re-uploading the same fallback key does not make it unused; a new one does.
    (await device.upload(fallback_keys=fallback)).ok()
    assert (await alice.sync())["device_unused_fallback_key_types"] == []
    (await device.upload(fallback_keys=device.one_time_keys(1, fallback=True))).ok()
    assert (await alice.sync())["device_unused_fallback_key_types"] == [SCC]

    # Unknown devices and algorithms are missing from the answer; remote users fail.
    body = await claim(
        bob,
        {
            alice.user_id: {"NOPE": SCC},
            bob.user_id: {bob.device_id: SCC},
            "@x:elsewhere.example": {"D": SCC},
        },
    )
    assert body["one_time_keys"] == {}
    assert set(body["failures"]) == {"elsewhere.example"}
    bad = await bob.call("POST", "/keys/claim", {"one_time_keys": {alice.user_id: ["D"]}})
    assert (bad.status, bad.errcode) == (400, "M_BAD_JSON")
    bad = await bob.call("POST", "/keys/claim", {"one_time_keys": {"not a user": {}}})
    assert (bad.status, bad.errcode) == (400, "M_INVALID_PARAM")


async def test_concurrent_claims_never_share_a_key(server: Server, alice: User) -> None:
    device = Device(alice)
    otks = device.one_time_keys(20)
    (await device.upload(device_keys=device.device_keys(), one_time_keys=otks)).ok()
    claimers = [await server.register(f"claimer{i}") for i in range(8)]
    wanted = {alice.user_id: {alice.device_id: SCC}}

    async def claim_many(user: User) -> list[str]:
        got = []
        for _ in range(4):
            body = await claim(user, wanted)
            got += list(body["one_time_keys"].get(alice.user_id, {}).get(alice.device_id, {}))
        return got

    results = await asyncio.gather(*(claim_many(u) for u in claimers))
    claimed = [key_id for got in results for key_id in got]
    # 32 claims for 20 keys, no fallback key: each key exactly once, then nothing.
    assert sorted(claimed) == sorted(otks)
    assert (await alice.sync())["device_one_time_keys_count"] == {SCC: 0}


async def test_query_bad_bodies(alice: User) -> None:
    for body, errcode in [
        ({}, "M_BAD_JSON"),
        ({"device_keys": []}, "M_BAD_JSON"),
        ({"device_keys": {alice.user_id: "all"}}, "M_BAD_JSON"),
        ({"device_keys": {"alice": []}}, "M_INVALID_PARAM"),
    ]:
        reply = await alice.call("POST", "/keys/query", body)
        assert (reply.status, reply.errcode) == (400, errcode), body


async def test_deleting_a_device_deletes_its_keys(server: Server, alice: User, bob: User) -> None:
    login = (await server.login("alice")).ok()
    second = User(alice.http, alice.user_id, login["access_token"], login["device_id"])
    device = Device(second)
    (
        await device.upload(device_keys=device.device_keys(), one_time_keys=device.one_time_keys(3))
    ).ok()
    assert second.device_id in (await query(bob, {alice.user_id: []}))["device_keys"][alice.user_id]
    deleted = await server.with_password(
        "DELETE", f"/devices/{second.device_id}", {}, token=alice.token, user="alice"
    )
    deleted.ok()
    assert (await query(bob, {alice.user_id: []}))["device_keys"][alice.user_id] == {}
    body = await claim(bob, {alice.user_id: {second.device_id: SCC}})
    assert body["one_time_keys"] == {}
