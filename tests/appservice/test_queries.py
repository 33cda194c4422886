"""The homeserver asking the application service: unknown users and aliases in its
namespaces, third-party lookups, and the ping.

spec: application-service-api "Querying", "Third-party networks", "Pinging";
client-server "Third-party Lookup", "Application service ping"."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web as aioweb

from ..support.matrix_client import SERVER, Server, q
from .conftest import AS_ID, HS_TOKEN, FakeBridge, as_call, register_puppet

PUPPET = f"@_bridge_carol:{SERVER}"
ALIAS = f"#_bridge_lobby:{SERVER}"


async def test_unknown_namespaced_user_is_asked_and_created(
    server: Server, bridge: FakeBridge
) -> None:
    async def user_query(request: aioweb.Request) -> aioweb.StreamResponse:
        # The bridge creates the puppet, then answers 200.
        await register_puppet(server, "_bridge_carol")
        return aioweb.json_response({})

    bridge.handlers["/_matrix/app/v1/users/"] = user_query
    alice = await server.register("alice")
    profile = await alice.call("GET", f"/profile/{q(PUPPET)}")
    assert profile.ok()["displayname"] == "_bridge_carol"
    assert bridge.requests[0][:3] == (
        "GET",
        f"/_matrix/app/v1/users/{q(PUPPET)}",
        f"Bearer {HS_TOKEN}",
    )
    # Known now: not asked again.
    await alice.call("GET", f"/profile/{q(PUPPET)}")
    assert len(bridge.paths("/_matrix/app/v1/users/")) == 1


async def test_unknown_user_refused_by_service_is_404(server: Server, bridge: FakeBridge) -> None:
    alice = await server.register("alice")
    reply = await alice.call("GET", f"/profile/{q(PUPPET)}")
    assert (reply.status, reply.errcode) == (404, "M_NOT_FOUND")
    assert bridge.paths() == [f"/_matrix/app/v1/users/{q(PUPPET)}"]
    # Users outside every namespace are never asked about.
    await alice.call("GET", f"/profile/{q('@nobody:' + SERVER)}")
    assert len(bridge.paths()) == 1


async def test_invite_asks_about_unknown_puppet(server: Server, bridge: FakeBridge) -> None:
    async def user_query(request: aioweb.Request) -> aioweb.StreamResponse:
        await register_puppet(server, "_bridge_carol")
        return aioweb.json_response({})

    bridge.handlers["/_matrix/app/v1/users/"] = user_query
    alice = await server.register("alice")
    room = await alice.create_room()
    assert (await alice.invite(room, PUPPET)).ok() == {}
    assert bridge.paths("/_matrix/app/v1/users/") == [f"/_matrix/app/v1/users/{q(PUPPET)}"]


async def test_create_room_invite_asks_about_unknown_puppet(
    server: Server, bridge: FakeBridge
) -> None:
    async def user_query(request: aioweb.Request) -> aioweb.StreamResponse:
        await register_puppet(server, "_bridge_carol")
        return aioweb.json_response({})

    bridge.handlers["/_matrix/app/v1/users/"] = user_query
    alice = await server.register("alice")
    room = await alice.create_room(invite=[PUPPET], is_direct=True)
    assert bridge.paths() == [f"/_matrix/app/v1/users/{q(PUPPET)}"]
    state = await alice.call("GET", f"/rooms/{q(room)}/state/m.room.member/{q(PUPPET)}")
    assert state.ok()["membership"] == "invite"
    assert state.ok()["displayname"] == "_bridge_carol"


async def test_unknown_alias_is_asked_then_resolved(server: Server, bridge: FakeBridge) -> None:
    async def alias_query(request: aioweb.Request) -> aioweb.StreamResponse:
        made = await as_call(server, "POST", "/createRoom", {"room_alias_name": "_bridge_lobby"})
        made.ok()
        return aioweb.json_response({})

    bridge.handlers["/_matrix/app/v1/rooms/"] = alias_query
    alice = await server.register("alice")
    resolved = await alice.call("GET", f"/directory/room/{q(ALIAS)}")
    room_id = resolved.ok()["room_id"]
    assert bridge.paths() == [f"/_matrix/app/v1/rooms/{q(ALIAS)}"]
    # Known now: joining by the alias asks nothing (the room is private: refused).
    await alice.join(ALIAS)
    assert len(bridge.paths()) == 1
    assert room_id.startswith("!")


async def test_unknown_alias_refused_is_404(server: Server, bridge: FakeBridge) -> None:
    reply = await server.call("GET", f"/directory/room/{q(ALIAS)}")
    assert (reply.status, reply.errcode) == (404, "M_NOT_FOUND")
    assert bridge.paths() == [f"/_matrix/app/v1/rooms/{q(ALIAS)}"]
    # 200 without creating the alias is still 404.
    bridge.handlers["/_matrix/app/v1/rooms/"] = _ok
    again = await server.call("GET", f"/directory/room/{q(ALIAS)}")
    assert (again.status, again.errcode) == (404, "M_NOT_FOUND")
    # Aliases outside the namespace are not asked about.
    await server.call("GET", f"/directory/room/{q('#other:' + SERVER)}")
    assert len(bridge.paths()) == 2


async def _ok(request: aioweb.Request) -> aioweb.StreamResponse:
    return aioweb.json_response({})


PROTOCOL = {
    "user_fields": ["network", "nickname"],
    "location_fields": ["network", "channel"],
    "icon": "mxc://example.org/aBcDeFgH",
    "field_types": {
        "network": {"regexp": "([a-z0-9]+\\.)*[a-z0-9]+", "placeholder": "irc.example.org"},
        "nickname": {"regexp": "[^\\s#]+", "placeholder": "username"},
        "channel": {"regexp": "#[^\\s]+", "placeholder": "#foobar"},
    },
    "instances": [{"desc": "Freenode", "fields": {"network": "freenode"}, "network_id": "fn"}],
}


async def test_thirdparty(server: Server, bridge: FakeBridge) -> None:
    async def protocol(request: aioweb.Request) -> aioweb.StreamResponse:
        if request.match_info.get("tail", "").endswith("/bridgenet"):
            return aioweb.json_response(PROTOCOL)
        return aioweb.json_response({"errcode": "M_NOT_FOUND"}, status=404)

    async def location(request: aioweb.Request) -> aioweb.StreamResponse:
        return aioweb.json_response(
            [{"alias": ALIAS, "protocol": "bridgenet", "fields": dict(request.query)}]
        )

    async def user(request: aioweb.Request) -> aioweb.StreamResponse:
        return aioweb.json_response(
            [{"userid": PUPPET, "protocol": "bridgenet", "fields": dict(request.query)}]
        )

    bridge.handlers["/_matrix/app/v1/thirdparty/protocol/"] = protocol
    bridge.handlers["/_matrix/app/v1/thirdparty/location"] = location
    bridge.handlers["/_matrix/app/v1/thirdparty/user"] = user
    alice = await server.register("alice")

    protocols = (await alice.call("GET", "/thirdparty/protocols")).ok()
    assert list(protocols) == ["bridgenet"]
    instance = protocols["bridgenet"]["instances"][0]
    assert instance["instance_id"] == f"{AS_ID}|fn"
    assert instance["network_id"] == "fn"
    one = (await alice.call("GET", "/thirdparty/protocol/bridgenet")).ok()
    assert one["user_fields"] == ["network", "nickname"]
    missing = await alice.call("GET", "/thirdparty/protocol/xmpp")
    assert (missing.status, missing.errcode) == (404, "M_NOT_FOUND")

    locations = await alice.call(
        "GET", "/thirdparty/location/bridgenet", params={"channel": "#chat"}
    )
    assert locations.ok() == [
        {"alias": ALIAS, "protocol": "bridgenet", "fields": {"channel": "#chat"}}
    ]
    users = await alice.call("GET", "/thirdparty/user/bridgenet", params={"nickname": "c"})
    assert users.ok()[0]["userid"] == PUPPET
    by_alias = await alice.call("GET", "/thirdparty/location", params={"alias": ALIAS})
    assert by_alias.ok()[0]["fields"] == {"alias": ALIAS}
    by_user = await alice.call("GET", "/thirdparty/user", params={"userid": PUPPET})
    assert by_user.ok()[0]["fields"] == {"userid": PUPPET}
    assert "access_token" not in str(bridge.requests)
    unknown = await alice.call("GET", "/thirdparty/user/xmpp")
    assert (unknown.status, unknown.errcode) == (404, "M_NOT_FOUND")
    need = await alice.call("GET", "/thirdparty/user")
    assert (need.status, need.errcode) == (400, "M_MISSING_PARAM")
    anonymous = await server.call("GET", "/thirdparty/protocols")
    assert anonymous.status == 401


async def test_thirdparty_nothing_found_is_404(server: Server, bridge: FakeBridge) -> None:
    alice = await server.register("alice")
    reply = await alice.call("GET", "/thirdparty/location/bridgenet", params={"channel": "#x"})
    assert (reply.status, reply.errcode) == (404, "M_NOT_FOUND")


PING = f"/_matrix/client/v1/appservice/{AS_ID}/ping"


async def test_ping(server: Server, bridge: FakeBridge) -> None:
    bridge.handlers["/_matrix/app/v1/ping"] = _ok
    reply = await as_call(server, "POST", PING, {"transaction_id": "txn-1"})
    assert isinstance(reply.ok()["duration_ms"], int)
    method, path, auth, body = bridge.requests[-1]
    assert (method, path, auth, body) == (
        "POST",
        "/_matrix/app/v1/ping",
        f"Bearer {HS_TOKEN}",
        {"transaction_id": "txn-1"},
    )


async def test_ping_refusals(server: Server, bridge: FakeBridge) -> None:
    alice = await server.register("alice")
    other = await alice.call("POST", PING, {})
    assert (other.status, other.errcode) == (403, "M_FORBIDDEN")
    wrong_id = await as_call(server, "POST", "/_matrix/client/v1/appservice/nope/ping", {})
    assert (wrong_id.status, wrong_id.errcode) == (403, "M_FORBIDDEN")

    async def refuse(request: aioweb.Request) -> aioweb.StreamResponse:
        return aioweb.json_response({"errcode": "M_FORBIDDEN"}, status=403)

    bridge.handlers["/_matrix/app/v1/ping"] = refuse
    bad = await as_call(server, "POST", PING, {})
    assert (bad.status, bad.errcode) == (502, "M_BAD_STATUS")
    assert bad.body["status"] == 403
    assert bad.body["body"] == '{"errcode": "M_FORBIDDEN"}'


async def test_ping_timeout(server: Server, bridge: FakeBridge) -> None:
    from appservice.routes import PING_TIMEOUT_KEY

    server.app[PING_TIMEOUT_KEY] = 0.2

    async def slow(request: aioweb.Request) -> aioweb.StreamResponse:
        await asyncio.sleep(2)
        return aioweb.json_response({})

    bridge.handlers["/_matrix/app/v1/ping"] = slow
    reply = await as_call(server, "POST", PING, {})
    assert (reply.status, reply.errcode) == (504, "M_CONNECTION_TIMEOUT")


async def test_ping_connection_failed(make_server: Any, tmp_path: Any) -> None:
    from .conftest import registration_yaml

    down = tmp_path / "down.yaml"
    down.write_text(registration_yaml("http://127.0.0.1:9"))
    server: Server = await make_server(app_service_config_files=[str(down)])
    failed = await as_call(server, "POST", PING, {})
    assert (failed.status, failed.errcode) == (502, "M_CONNECTION_FAILED")


async def test_ping_url_not_set(make_server: Any, tmp_path: Any) -> None:
    from .conftest import registration_yaml

    path = tmp_path / "nourl.yaml"
    path.write_text(registration_yaml(None))
    server: Server = await make_server(app_service_config_files=[str(path)])
    reply = await as_call(server, "POST", PING, {})
    assert (reply.status, reply.errcode) == (400, "M_URL_NOT_SET")
