"""An application service using the client-server API with its as_token: identity
assertion, m.login.application_service, exclusive namespaces, rate limits, timestamps.

spec: application-service-api "Client-Server API Extensions"."""

from __future__ import annotations

from typing import Any

import pytest

from ..support.matrix_client import SERVER, Server, q
from .conftest import AS_ID, AS_TOKEN, SENDER, as_call, register_puppet

PUPPET = f"@_bridge_alice:{SERVER}"


async def test_as_token_acts_as_sender_by_default(server: Server) -> None:
    reply = await server.whoami(AS_TOKEN)
    assert reply.ok() == {"user_id": SENDER, "is_guest": False}


async def test_register_puppet_then_masquerade(server: Server) -> None:
    reply = await register_puppet(server, "_bridge_alice")
    assert reply.ok() == {"user_id": PUPPET, "home_server": SERVER}
    assert "access_token" not in reply.body
    whoami = await as_call(server, "GET", "/account/whoami", user_id=PUPPET)
    assert whoami.ok()["user_id"] == PUPPET
    # Registered once only.
    again = await register_puppet(server, "_bridge_alice")
    assert (again.status, again.errcode) == (400, "M_USER_IN_USE")


async def test_register_with_login_gives_a_session(server: Server) -> None:
    reply = await as_call(
        server,
        "POST",
        "/register",
        {"type": "m.login.application_service", "username": "_bridge_bob"},
    )
    body = reply.ok()
    me = await server.whoami(body["access_token"])
    assert me.ok()["user_id"] == f"@_bridge_bob:{SERVER}"


@pytest.mark.parametrize(
    ("token", "status", "errcode"),
    [(None, 401, "M_MISSING_TOKEN"), ("not-a-token", 401, "M_UNKNOWN_TOKEN")],
)
async def test_register_as_type_needs_the_as_token(
    server: Server, token: str | None, status: int, errcode: str
) -> None:
    reply = await server.call(
        "POST",
        "/register",
        {"type": "m.login.application_service", "username": "_bridge_x"},
        token=token,
    )
    assert (reply.status, reply.errcode) == (status, errcode)


async def test_register_outside_namespace_is_exclusive(server: Server) -> None:
    reply = await register_puppet(server, "someone")
    assert (reply.status, reply.errcode) == (400, "M_EXCLUSIVE")
    assert (await server.call("GET", "/register/available", params={"username": "someone"})).ok()


async def test_users_may_not_register_in_exclusive_namespace(server: Server) -> None:
    for name in ("_bridge_mallory", "_bridge_bot"):
        first = await server.call("POST", "/register", {"username": name})
        assert (first.status, first.errcode) == (400, "M_EXCLUSIVE"), first
        available = await server.call("GET", "/register/available", params={"username": name})
        assert (available.status, available.errcode) == (400, "M_EXCLUSIVE")


async def test_masquerade_refusals(server: Server) -> None:
    alice = await server.register("alice")
    outside = await as_call(server, "GET", "/account/whoami", user_id=alice.user_id)
    assert (outside.status, outside.errcode) == (403, "M_EXCLUSIVE")
    unregistered = await as_call(server, "GET", "/account/whoami", user_id=PUPPET)
    assert (unregistered.status, unregistered.errcode) == (403, "M_FORBIDDEN")
    await register_puppet(server, "_bridge_alice")
    no_device = await as_call(server, "GET", "/account/whoami", user_id=PUPPET, device_id="NOPE")
    assert (no_device.status, no_device.errcode) == (400, "M_UNKNOWN_DEVICE")
    # A user's own token ignores user_id.
    me = await server.call("GET", "/account/whoami", token=alice.token, params={"user_id": PUPPET})
    assert me.ok()["user_id"] == alice.user_id


async def test_masquerade_with_device(server: Server) -> None:
    await register_puppet(server, "_bridge_alice")
    login = await as_call(
        server,
        "POST",
        "/login",
        {
            "type": "m.login.application_service",
            "identifier": {"type": "m.id.user", "user": "_bridge_alice"},
            "device_id": "PUPPETDEV",
        },
    )
    assert login.ok()["user_id"] == PUPPET
    me = await as_call(server, "GET", "/account/whoami", user_id=PUPPET, device_id="PUPPETDEV")
    assert me.ok() == {"user_id": PUPPET, "device_id": "PUPPETDEV", "is_guest": False}


async def test_login_refusals(server: Server) -> None:
    await server.register("alice")
    flows = (await server.call("GET", "/login")).ok()["flows"]
    assert {"type": "m.login.application_service"} in flows

    async def login(user: str, token: str | None = AS_TOKEN) -> Any:
        return await server.call(
            "POST",
            "/login",
            {
                "type": "m.login.application_service",
                "identifier": {"type": "m.id.user", "user": user},
            },
            token=token,
        )

    assert (await login("alice")).errcode == "M_EXCLUSIVE"
    assert (await login("_bridge_ghost")).errcode == "M_FORBIDDEN"
    missing = await login("_bridge_ghost", None)
    assert (missing.status, missing.errcode) == (401, "M_MISSING_TOKEN")
    wrong = await login("_bridge_ghost", "wrong")
    assert (wrong.status, wrong.errcode) == (401, "M_UNKNOWN_TOKEN")


async def test_alias_exclusivity(server: Server) -> None:
    alice = await server.register("alice")
    room = await alice.create_room()
    alias = f"#_bridge_chan:{SERVER}"
    put = await alice.call("PUT", f"/directory/room/{q(alias)}", {"room_id": room})
    assert (put.status, put.errcode) == (400, "M_EXCLUSIVE")
    create = await alice.call("POST", "/createRoom", {"room_alias_name": "_bridge_other"})
    assert (create.status, create.errcode) == (400, "M_EXCLUSIVE")
    # The service itself (its sender) may.
    made = await as_call(server, "POST", "/createRoom", {"room_alias_name": "_bridge_chan"})
    room_id = made.ok()["room_id"]
    resolved = await server.call("GET", f"/directory/room/{q(alias)}")
    assert resolved.ok()["room_id"] == room_id
    # And users may still make aliases outside the namespace.
    assert (
        await alice.call("PUT", f"/directory/room/{q('#free:' + SERVER)}", {"room_id": room})
    ).ok() == {}


async def test_timestamp_massaging(server: Server) -> None:
    made = await as_call(server, "POST", "/createRoom", {})
    room_id = made.ok()["room_id"]
    sent = await as_call(
        server,
        "PUT",
        f"/rooms/{q(room_id)}/send/m.room.message/t1",
        {"msgtype": "m.text", "body": "from the past"},
        ts="1500000000000",
    )
    event_id = sent.ok()["event_id"]
    state = await as_call(
        server,
        "PUT",
        f"/rooms/{q(room_id)}/state/m.room.topic/",
        {"topic": "old"},
        ts="1500000000001",
    )
    state_id = state.ok()["event_id"]
    for eid, ts in ((event_id, 1500000000000), (state_id, 1500000000001)):
        event = await as_call(server, "GET", f"/rooms/{q(room_id)}/event/{q(eid)}")
        assert event.ok()["origin_server_ts"] == ts
    bad = await as_call(
        server,
        "PUT",
        f"/rooms/{q(room_id)}/send/m.room.message/t2",
        {"msgtype": "m.text", "body": "x"},
        ts="soon",
    )
    assert (bad.status, bad.errcode) == (400, "M_INVALID_PARAM")
    # Ordinary users' ts is ignored.
    alice = await server.register("alice")
    own = await alice.create_room()
    reply = await alice.call(
        "PUT",
        f"/rooms/{q(own)}/send/m.room.message/t1",
        {"msgtype": "m.text", "body": "now"},
        params={"ts": "1500000000000"},
    )
    ev = await alice.call("GET", f"/rooms/{q(own)}/event/{q(reply.ok()['event_id'])}")
    assert ev.ok()["origin_server_ts"] == server.clock.now_ms


async def test_rate_limits(make_server: Any) -> None:
    limits = {"enabled": True, "actions_per_second": 0.001, "actions_burst": 2}
    server: Server = await make_server(rate_limits=limits)
    await register_puppet(server, "_bridge_alice")  # the sender: never limited
    await register_puppet(server, "_bridge_bob")
    room = (await as_call(server, "POST", "/createRoom", {})).ok()["room_id"]
    for _ in range(5):
        assert (await as_call(server, "POST", "/createRoom", {})).status == 200
    # rate_limited defaults to true: a masqueraded user has its own bucket.
    statuses = [
        (await as_call(server, "POST", "/createRoom", {}, user_id=PUPPET)).status for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    other = await as_call(server, "POST", "/createRoom", {}, user_id=f"@_bridge_bob:{SERVER}")
    assert other.status == 200
    assert room


@pytest.mark.parametrize("registration_extra", [{"rate_limited": "false"}])
async def test_rate_limited_false_exempts_puppets(make_server: Any) -> None:
    limits = {"enabled": True, "actions_per_second": 0.001, "actions_burst": 1}
    server: Server = await make_server(rate_limits=limits)
    await register_puppet(server, "_bridge_alice")
    for _ in range(4):
        assert (await as_call(server, "POST", "/createRoom", {}, user_id=PUPPET)).status == 200


async def test_sender_account_exists(server: Server) -> None:
    profile = await server.call("GET", f"/profile/{q(SENDER)}")
    assert profile.status == 200
    assert AS_ID


async def test_key_upload_without_device_is_refused(server: Server) -> None:
    await register_puppet(server, "_bridge_alice")
    keys = {"one_time_keys": {"signed_curve25519:AAAA": {"key": "x", "signatures": {}}}}
    reply = await as_call(server, "POST", "/keys/upload", keys, user_id=PUPPET)
    assert (reply.status, reply.errcode) == (400, "M_UNKNOWN_DEVICE")
