"""Login, logout and the access-token check. spec: client-server "Login",
"Using access tokens", ``/logout``, ``/logout/all``, ``/account/whoami``."""

from __future__ import annotations

import hashlib

from homeserver.api.auth import AUTH_KEY, Requester
from homeserver.appkeys import STORE_KEY

from ..support.matrix_client import Server


async def test_login_flows_and_identifiers(server: Server) -> None:
    flows = await server.call("GET", "/login")
    assert flows.body == {"flows": [{"type": "m.login.password"}, {"type": "org.matrix.login.jwt"}]}
    assert (await server.call("GET", "/_matrix/client/r0/login")).status == 200
    await server.register("alice")

    for user in ("alice", "@alice:test.local", "Alice"):
        reply = await server.login(user)
        assert reply.status == 200, (user, reply)
        assert reply.body["user_id"] == "@alice:test.local"
        assert reply.body["home_server"] == "test.local"
        me = await server.whoami(reply.body["access_token"])
        assert me.body["device_id"] == reply.body["device_id"]
    # The deprecated top-level `user` field, on the r0 prefix.
    legacy = await server.call(
        "POST",
        "/_matrix/client/r0/login",
        {"type": "m.login.password", "user": "alice", "password": "correct horse"},
    )
    assert legacy.status == 200, legacy

    wrong = await server.login("alice", "wrong")
    unknown = await server.login("nobody", "wrong")
    other_server = await server.login("@alice:elsewhere.org")
    for reply in (wrong, unknown, other_server):
        assert reply.status == 403, reply
        assert reply.body == {"errcode": "M_FORBIDDEN", "error": "Invalid username or password"}

    third_party = await server.call(
        "POST",
        "/login",
        {
            "type": "m.login.password",
            "identifier": {"type": "m.id.thirdparty", "medium": "email", "address": "a@b.c"},
            "password": "x",
        },
    )
    assert third_party.status == 403
    unknown_type = await server.call("POST", "/login", {"type": "m.login.magic"})
    assert unknown_type.status == 400
    assert unknown_type.errcode == "M_UNKNOWN"

    # Logging in again with a device id revokes the tokens that device held.
    first = await server.login("alice", device_id="LAPTOP", initial_device_display_name="Laptop")
    second = await server.login("alice", device_id="LAPTOP")
    assert second.body["device_id"] == "LAPTOP"
    assert (await server.whoami(first.body["access_token"])).errcode == "M_UNKNOWN_TOKEN"
    assert (await server.whoami(second.body["access_token"])).status == 200
    device = await server.call("GET", "/devices/LAPTOP", token=second.body["access_token"])
    assert device.body["display_name"] == "Laptop"


async def test_token_errors_logout_and_logout_all(server: Server) -> None:
    missing = await server.call("GET", "/account/whoami")
    assert missing.status == 401
    assert missing.body["errcode"] == "M_MISSING_TOKEN"
    unknown = await server.whoami("cat_not_a_token")
    assert unknown.status == 401
    assert unknown.body["errcode"] == "M_UNKNOWN_TOKEN"
    assert unknown.body["soft_logout"] is False
    malformed = await server.http.get(
        "/_matrix/client/v3/account/whoami", headers={"Authorization": "Basic abc"}
    )
    assert malformed.status == 401

    alice = await server.register("alice")
    token = alice.token
    # What require_user hands to other endpoints; admin rights are read from the account.
    authenticator = server.http.app[AUTH_KEY]
    requester = await authenticator.authenticate(token)
    assert requester == Requester(
        "@alice:test.local", alice.device_id, hashlib.sha256(token.encode()).hexdigest()
    )
    await server.http.app[STORE_KEY].accounts.set_admin("@alice:test.local", True)
    authenticator.invalidate_user("@alice:test.local")
    assert (await authenticator.authenticate(token)).is_admin
    # The query parameter still works for older clients.
    query = await server.call("GET", "/account/whoami", params={"access_token": token})
    assert query.body["user_id"] == "@alice:test.local"

    phone = (await server.login("alice")).body["access_token"]
    laptop = (await server.login("alice")).body["access_token"]
    assert (await server.call("POST", "/logout", {}, token=phone)).status == 200
    refused = await server.whoami(phone)
    assert refused.status == 401
    assert refused.body["errcode"] == "M_UNKNOWN_TOKEN"
    assert refused.body["soft_logout"] is False
    devices = await server.call("GET", "/devices", token=laptop)
    assert len(devices.body["devices"]) == 2  # the logged-out device is gone

    assert (await server.call("POST", "/logout/all", {}, token=laptop)).status == 200
    for old in (token, laptop):
        assert (await server.whoami(old)).errcode == "M_UNKNOWN_TOKEN"
    # Logging in again works after logging out everywhere.
    fresh = await server.login("alice")
    devices = await server.call("GET", "/devices", token=fresh.body["access_token"])
    assert [d["device_id"] for d in devices.body["devices"]] == [fresh.body["device_id"]]
