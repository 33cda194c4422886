"""POST /register as a client sees it. spec: client-server "Account registration",
"User-Interactive Authentication API", "Token-authenticated registration".

Tests are few and long on purpose: each one costs a fresh database on both engines.
"""

from __future__ import annotations

from ..support.matrix_client import Server
from ..support.server_fixtures import MakeServer

VALIDITY = "/_matrix/client/v1/register/m.login.registration_token/validity"


async def test_dummy_flow_registers_and_logs_in(server: Server) -> None:
    first = await server.call("POST", "/register", {"username": "alice", "password": "pw"})
    assert first.status == 401
    # The first 401 is a challenge, not an error.
    assert "errcode" not in first.body
    assert first.body["flows"] == [{"stages": ["m.login.dummy"]}]
    assert first.body["params"] == {}
    assert isinstance(first.body["session"], str)

    reply = await server.call(
        "POST",
        "/register",
        {
            "username": "alice",
            "password": "pw",
            "initial_device_display_name": "Phone",
            "auth": {"type": "m.login.dummy", "session": first.body["session"]},
        },
    )
    assert reply.status == 200, reply
    assert reply.body["user_id"] == "@alice:test.local"
    assert reply.body["home_server"] == "test.local"
    assert "refresh_token" not in reply.body and "expires_in_ms" not in reply.body
    me = await server.whoami(reply.body["access_token"])
    assert me.body == {
        "user_id": "@alice:test.local",
        "device_id": reply.body["device_id"],
        "is_guest": False,
    }
    devices = await server.call("GET", "/devices", token=reply.body["access_token"])
    assert devices.body["devices"][0]["display_name"] == "Phone"
    # The session is spent: it cannot authorize a second registration.
    again = await server.call(
        "POST",
        "/register",
        {"username": "bob", "auth": {"type": "m.login.dummy", "session": first.body["session"]}},
    )
    assert again.status == 400

    # A client may attempt the dummy stage without a session; r0 still answers.
    bob = await server.call(
        "POST",
        "/_matrix/client/r0/register",
        {
            "username": "Bob",
            "password": "pw",
            "device_id": "MYDEVICE",
            "refresh_token": True,
            "auth": {"type": "m.login.dummy"},
        },
    )
    assert bob.status == 200, bob
    # Usernames are lowercased; the client's device id is kept.
    assert bob.body["user_id"] == "@bob:test.local"
    assert bob.body["device_id"] == "MYDEVICE"
    assert bob.body["refresh_token"] and bob.body["expires_in_ms"] == 300_000
    assert (await server.login("bob", "pw")).status == 200

    # No username: the server picks one. inhibit_login: no tokens.
    anonymous = await server.call(
        "POST",
        "/register",
        {"password": "pw", "inhibit_login": True, "auth": {"type": "m.login.dummy"}},
    )
    assert anonymous.status == 200, anonymous
    assert set(anonymous.body) == {"user_id", "home_server"}
    assert anonymous.body["user_id"].endswith(":test.local")
    assert (await server.login(anonymous.body["user_id"], "pw")).status == 200


async def test_closed_registration_and_no_jwt(make_server: MakeServer) -> None:
    server = await make_server(enable_registration=False, jwt={"enabled": False})
    reply = await server.call("POST", "/register", {"username": "alice", "password": "pw"})
    assert reply.status == 403
    assert reply.errcode == "M_FORBIDDEN"
    available = await server.call("GET", "/register/available", params={"username": "alice"})
    assert available.status == 403
    assert (await server.call("GET", VALIDITY, params={"token": "x"})).status == 403
    # Without JWT config the login type is neither offered nor accepted.
    flows = await server.call("GET", "/login")
    assert flows.body == {"flows": [{"type": "m.login.password"}]}
    jwt = await server.call("POST", "/login", {"type": "org.matrix.login.jwt", "token": "x"})
    assert jwt.status == 400
    assert jwt.errcode == "M_UNKNOWN"


async def test_registration_token_flow(make_server: MakeServer) -> None:
    server = await make_server(enable_registration=False, registration_tokens=["letmein"])
    body = {"username": "alice", "password": "pw"}
    first = await server.call("POST", "/register", body)
    assert first.status == 401
    assert first.body["flows"] == [{"stages": ["m.login.registration_token"]}]
    session = first.body["session"]

    # Registration is closed: the dummy stage is not offered.
    dummy = await server.call(
        "POST", "/register", {**body, "auth": {"type": "m.login.dummy", "session": session}}
    )
    assert dummy.status == 401
    assert dummy.errcode == "M_FORBIDDEN"

    wrong = await server.call(
        "POST",
        "/register",
        {**body, "auth": {"type": "m.login.registration_token", "token": "no", "session": session}},
    )
    assert wrong.status == 401
    assert wrong.errcode == "M_FORBIDDEN"
    assert wrong.body["session"] == session
    assert wrong.body["flows"] == first.body["flows"]

    right = await server.call(
        "POST",
        "/register",
        {
            **body,
            "auth": {"type": "m.login.registration_token", "token": "letmein", "session": session},
        },
    )
    assert right.status == 200, right
    assert right.body["user_id"] == "@alice:test.local"

    assert (await server.call("GET", VALIDITY, params={"token": "letmein"})).body == {"valid": True}
    assert (await server.call("GET", VALIDITY, params={"token": "nope"})).body == {"valid": False}


async def test_rejected_registrations(server: Server) -> None:
    await server.register("alice")
    assert (await server.call("GET", "/register/available", params={"username": "bob"})).body == {
        "available": True
    }
    # In use: answered before user-interactive auth, whatever the case.
    for name in ("alice", "ALICE"):
        reply = await server.call("POST", "/register", {"username": name, "password": "pw"})
        assert reply.status == 400, reply
        assert reply.errcode == "M_USER_IN_USE"
        taken = await server.call("GET", "/register/available", params={"username": name})
        assert taken.errcode == "M_USER_IN_USE"

    for name in ("has space", "colon:name", "émile", "a" * 250, "tab\t", "@alice"):
        reply = await server.call("POST", "/register", {"username": name, "password": "pw"})
        assert reply.status == 400, (name, reply)
        assert reply.errcode == "M_INVALID_USERNAME", (name, reply)
        available = await server.call("GET", "/register/available", params={"username": name})
        assert available.errcode == "M_INVALID_USERNAME"

    guest = await server.call("POST", "/register", {}, params={"kind": "guest"})
    assert guest.status == 403
    assert guest.errcode == "M_GUEST_ACCESS_FORBIDDEN"
    weird = await server.call("POST", "/register", {}, params={"kind": "robot"})
    assert weird.errcode == "M_INVALID_PARAM"
    not_json = await server.http.post("/_matrix/client/v3/register", data=b"{nope")
    assert not_json.status == 400
    assert (await not_json.json())["errcode"] == "M_NOT_JSON"
    assert (await server.call("POST", "/register", {"username": 5})).errcode == "M_BAD_JSON"
    empty_password = await server.call("POST", "/register", {"username": "x", "password": ""})
    assert empty_password.errcode == "M_WEAK_PASSWORD"
