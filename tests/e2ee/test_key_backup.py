"""Server-side key backups (spec: client-server "Server-side key backups")."""

from __future__ import annotations

from typing import Any

from ..support.matrix_client import User, q

ALGORITHM = "m.megolm_backup.v1.curve25519-aes-sha2"
ROOM = "!room:test.local"


def key(index: int = 0, forwarded: int = 0, verified: bool = False, data: str = "x") -> Any:
    return {
        "first_message_index": index,
        "forwarded_count": forwarded,
        "is_verified": verified,
        "session_data": {"ciphertext": data, "ephemeral": "e", "mac": "m"},
    }


async def create(user: User, auth_data: Any = None) -> str:
    body = {"algorithm": ALGORITHM, "auth_data": auth_data or {"public_key": "pk"}}
    return str((await user.call("POST", "/room_keys/version", body)).ok()["version"])


async def test_versions(alice: User, bob: User) -> None:
    missing = await alice.call("GET", "/room_keys/version")
    assert (missing.status, missing.errcode) == (404, "M_NOT_FOUND")
    first = await create(alice)
    second = await create(alice, {"public_key": "pk2"})
    assert first != second
    current = (await alice.call("GET", "/room_keys/version")).ok()
    assert current == {
        "algorithm": ALGORITHM,
        "auth_data": {"public_key": "pk2"},
        "count": 0,
        "etag": current["etag"],
        "version": second,
    }
    assert isinstance(current["etag"], str)
    old = (await alice.call("GET", f"/room_keys/version/{first}")).ok()
    assert old["auth_data"] == {"public_key": "pk"}
    # Backups are per user.
    assert (await bob.call("GET", f"/room_keys/version/{first}")).status == 404
    assert (await bob.call("GET", "/room_keys/version")).status == 404

    # Only auth_data may change; algorithm and version must match.
    update = {"algorithm": ALGORITHM, "auth_data": {"public_key": "pk3"}, "version": second}
    (await alice.call("PUT", f"/room_keys/version/{second}", update)).ok()
    assert (await alice.call("GET", "/room_keys/version")).ok()["auth_data"] == {
        "public_key": "pk3"
    }
    for body, errcode in [
        ({**update, "algorithm": "other"}, "M_INVALID_PARAM"),
        ({**update, "version": first}, "M_INVALID_PARAM"),
        ({"algorithm": ALGORITHM}, "M_BAD_JSON"),
    ]:
        reply = await alice.call("PUT", f"/room_keys/version/{second}", body)
        assert (reply.status, reply.errcode) == (400, errcode), body
    unknown = await alice.call("PUT", "/room_keys/version/99", {**update, "version": "99"})
    assert (unknown.status, unknown.errcode) == (404, "M_NOT_FOUND")

    # Deleting: the previous version becomes the current one; deleting again is fine.
    (await alice.call("DELETE", f"/room_keys/version/{second}")).ok()
    (await alice.call("DELETE", f"/room_keys/version/{second}")).ok()
    assert (await alice.call("GET", "/room_keys/version")).ok()["version"] == first
    assert (await alice.call("GET", f"/room_keys/version/{second}")).status == 404
    for version in ("99", "abc"):
        reply = await alice.call("DELETE", f"/room_keys/version/{version}")
        assert (reply.status, reply.errcode) == (404, "M_NOT_FOUND")
    # Version numbers are not reused.
    assert await create(alice) not in (first, second)
    bad = await alice.call("POST", "/room_keys/version", {"algorithm": ALGORITHM})
    assert (bad.status, bad.errcode) == (400, "M_BAD_JSON")


async def test_keys_with_etag_and_count(alice: User) -> None:
    version = await create(alice)
    path = f"/room_keys/keys/{q(ROOM)}/s1"
    params = {"version": version}
    one = (await alice.call("PUT", path, key(), params=params)).ok()
    assert one["count"] == 1
    info = (await alice.call("GET", "/room_keys/version")).ok()
    assert (info["count"], info["etag"]) == (1, one["etag"])
    assert (await alice.call("GET", path, params=params)).ok() == key()

    # A whole room, then everything.
    room_body = {"sessions": {"s2": key(1), "s3": key(2)}}
    room = (await alice.call("PUT", f"/room_keys/keys/{q(ROOM)}", room_body, params=params)).ok()
    assert room["count"] == 3 and room["etag"] != one["etag"]
    other_room = "!other:test.local"
    everything = {"rooms": {other_room: {"sessions": {"s4": key()}}}}
    all_ = (await alice.call("PUT", "/room_keys/keys", everything, params=params)).ok()
    assert all_["count"] == 4
    got = (await alice.call("GET", "/room_keys/keys", params=params)).ok()
    assert got == {
        "rooms": {
            ROOM: {"sessions": {"s1": key(), "s2": key(1), "s3": key(2)}},
            other_room: {"sessions": {"s4": key()}},
        }
    }
    assert (await alice.call("GET", f"/room_keys/keys/{q(other_room)}", params=params)).ok() == {
        "sessions": {"s4": key()}
    }
    empty_room = await alice.call("GET", f"/room_keys/keys/{q('!none:x')}", params=params)
    assert empty_room.ok() == {"sessions": {}}
    no_session = await alice.call("GET", f"/room_keys/keys/{q(ROOM)}/nope", params=params)
    assert (no_session.status, no_session.errcode) == (404, "M_NOT_FOUND")

    # Deleting a session, a room, everything: count and etag follow.
    gone = (await alice.call("DELETE", path, params=params)).ok()
    assert gone["count"] == 3 and gone["etag"] != all_["etag"]
    gone = (await alice.call("DELETE", f"/room_keys/keys/{q(ROOM)}", params=params)).ok()
    assert gone["count"] == 1
    gone = (await alice.call("DELETE", "/room_keys/keys", params=params)).ok()
    assert gone["count"] == 0
    assert (await alice.call("GET", "/room_keys/keys", params=params)).ok() == {"rooms": {}}


async def test_replacement_rules(alice: User) -> None:
    version = await create(alice)
    path = f"/room_keys/keys/{q(ROOM)}/s"
    params = {"version": version}

    async def put(body: Any) -> Any:
        return (await alice.call("PUT", path, body, params=params)).ok()

    async def stored() -> Any:
        return (await alice.call("GET", path, params=params)).ok()

    first = await put(key(index=5, forwarded=2, data="a"))
    # Worse on every count: kept out, and the etag does not move.
    same = await put(key(index=6, forwarded=3, data="b"))
    assert same == first and (await stored())["session_data"]["ciphertext"] == "a"
    # A tie keeps the stored key.
    await put(key(index=5, forwarded=2, data="tie"))
    assert (await stored())["session_data"]["ciphertext"] == "a"
    # Same index, fewer forwards: replaces.
    await put(key(index=5, forwarded=1, data="c"))
    assert (await stored())["session_data"]["ciphertext"] == "c"
    # Lower first_message_index wins over forwarded_count.
    await put(key(index=1, forwarded=9, data="d"))
    assert (await stored())["session_data"]["ciphertext"] == "d"
    # A verified key wins over everything; an unverified one never replaces it.
    await put(key(index=9, forwarded=9, verified=True, data="e"))
    assert (await stored())["session_data"]["ciphertext"] == "e"
    await put(key(index=0, forwarded=0, verified=False, data="f"))
    assert (await stored())["session_data"]["ciphertext"] == "e"


async def test_version_checks(alice: User) -> None:
    path = f"/room_keys/keys/{q(ROOM)}/s"
    none = await alice.call("PUT", path, key(), params={"version": "1"})
    assert (none.status, none.errcode) == (404, "M_NOT_FOUND")
    old = await create(alice)
    current = await create(alice)
    for version in (old, "77", "abc"):
        wrong = await alice.call("PUT", path, key(), params={"version": version})
        assert (wrong.status, wrong.errcode) == (403, "M_WRONG_ROOM_KEYS_VERSION")
        assert wrong.body["current_version"] == current
    # Reading an older version is fine (it is empty); an unknown one is 404.
    assert (await alice.call("GET", "/room_keys/keys", params={"version": old})).ok() == {
        "rooms": {}
    }
    for method in ("GET", "DELETE"):
        reply = await alice.call(method, "/room_keys/keys", params={"version": "77"})
        assert (reply.status, reply.errcode) == (404, "M_NOT_FOUND")
        reply = await alice.call(method, "/room_keys/keys")
        assert (reply.status, reply.errcode) == (400, "M_MISSING_PARAM")
    params = {"version": current}
    for body, errcode in [
        ({**key(), "is_verified": "yes"}, "M_BAD_JSON"),
        ({**key(), "first_message_index": -1}, "M_BAD_JSON"),
        ({**key(), "session_data": "x"}, "M_BAD_JSON"),
        ({"first_message_index": 0}, "M_BAD_JSON"),
    ]:
        reply = await alice.call("PUT", path, body, params=params)
        assert (reply.status, reply.errcode) == (400, errcode), body
    reply = await alice.call("PUT", "/room_keys/keys", {"rooms": []}, params=params)
    assert (reply.status, reply.errcode) == (400, "M_BAD_JSON")
    reply = await alice.call("PUT", f"/room_keys/keys/{q(ROOM)}", {"sessions": 1}, params=params)
    assert (reply.status, reply.errcode) == (400, "M_BAD_JSON")
    assert (await alice.call("GET", "/room_keys/version")).ok()["count"] == 0
