"""Password change and deactivation. spec: client-server "Password management",
"Account deactivation"."""

from __future__ import annotations

from ..support.matrix_client import Server

ALICE = "@alice:test.local"


async def test_password_change_logs_out_other_devices(server: Server) -> None:
    await server.register("alice", device_id="PHONE")
    laptop = (await server.login("alice", device_id="LAPTOP")).body["access_token"]
    tablet = (await server.login("alice", device_id="TABLET")).body["access_token"]
    # Used once, so the token check has it cached: the change must reach the cache.
    assert (await server.whoami(tablet)).status == 200

    challenge = await server.call("POST", "/account/password", {"new_password": "n"}, token=laptop)
    assert challenge.status == 401
    assert "errcode" not in challenge.body
    # The UIA stage must name the requester: Alice's password for another user fails.
    await server.register("bob", password="correct horse")
    as_bob = await server.with_password(
        "POST", "/account/password", {"new_password": "n"}, token=laptop, user="bob"
    )
    assert as_bob.status == 401
    assert as_bob.errcode == "M_FORBIDDEN"

    changed = await server.with_password(
        "POST", "/account/password", {"new_password": "battery staple"}, token=laptop, user=ALICE
    )
    assert changed.status == 200, changed
    assert changed.body == {}
    # logout_devices defaults to true: every other device is gone, this one stays.
    assert (await server.whoami(laptop)).status == 200
    assert (await server.whoami(tablet)).errcode == "M_UNKNOWN_TOKEN"
    devices = await server.call("GET", "/devices", token=laptop)
    assert [d["device_id"] for d in devices.body["devices"]] == ["LAPTOP"]
    assert (await server.login("alice", "correct horse")).status == 403
    phone = await server.login("alice", "battery staple")
    assert phone.status == 200

    kept = await server.with_password(
        "POST",
        "/account/password",
        {"new_password": "third", "logout_devices": False},
        token=laptop,
        user="alice",
        password="battery staple",
    )
    assert kept.status == 200, kept
    assert (await server.whoami(phone.body["access_token"])).status == 200
    missing = await server.call("POST", "/account/password", {}, token=laptop)
    assert missing.errcode == "M_MISSING_PARAM"


async def test_deactivation(server: Server) -> None:
    alice = await server.register("alice")
    other = (await server.login("alice")).body["access_token"]
    token = alice.token
    assert (await server.whoami(other)).status == 200  # cached before deactivation
    challenge = await server.call("POST", "/account/deactivate", {}, token=token)
    assert challenge.status == 401
    done = await server.with_password("POST", "/account/deactivate", {}, token=token, user=ALICE)
    assert done.status == 200, done
    assert done.body == {"id_server_unbind_result": "no-support"}

    for old in (token, other):
        refused = await server.whoami(old)
        assert refused.status == 401
        assert refused.errcode == "M_UNKNOWN_TOKEN"
    login = await server.login("alice")
    assert login.status == 403
    # A deactivated user id is never handed out again.
    taken = await server.call("POST", "/register", {"username": "alice", "password": "pw"})
    assert taken.errcode == "M_USER_IN_USE"
