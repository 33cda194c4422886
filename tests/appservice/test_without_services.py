"""A server with no application service still answers their routes as the spec says (no
protocols, nothing found, no token is a service's), without loading their machinery."""

from __future__ import annotations

from ..support.server_fixtures import MakeServer
from ..support.server_fixtures import make_server as make_server
from ..support.server_fixtures import server_config as server_config


async def test_routes_answer_without_services(make_server: MakeServer) -> None:
    server = await make_server()
    alice = await server.register("alice")
    assert (await alice.call("GET", "/thirdparty/protocols")).ok() == {}
    for path in (
        "/thirdparty/protocol/irc",
        "/thirdparty/location?alias=%23a:b",
        "/thirdparty/user/irc",
    ):
        reply = await alice.call("GET", path)
        assert (reply.status, reply.errcode) == (404, "M_NOT_FOUND"), path
    ping = await alice.call("POST", "/_matrix/client/v1/appservice/bridge/ping", {})
    assert (ping.status, ping.errcode) == (403, "M_FORBIDDEN")
    anonymous = await alice.call("GET", "/thirdparty/protocols", auth=False)
    assert anonymous.status == 401
    # That none of the services' machinery is loaded then: tests/server/test_footprint.py.
