"""Federation routes that write into rooms: transactions, joins, leaves, knocks, invites.

Thin: each checks the server ACL of the room (spec: "Server Access Control Lists"),
calls one handler and renders its answer in the shape of the spec's OpenAPI.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeserver.api.responses import json_response
from homeserver.errors import MatrixError
from homeserver.http import web
from homeserver.protocol.events import Event
from homeserver.protocol.federation_pdu import pdu_for_federation

from .inbound_auth import authenticated
from .invites import STRIPPED_STATE_TYPES, InviteServer
from .membership_handshakes import HandshakeServer
from .transactions import AclCheck, TransactionHandler

# The servers in a room, for passing on an event a remote server handed us.
Broadcast = Callable[[Event, set[str]], Awaitable[None]]


@dataclass
class RoomRoutes:
    transactions: TransactionHandler
    handshakes: HandshakeServer
    invites: InviteServer
    acl_allows: AclCheck | None = None
    # Sends an event to the other servers in its room (the federation sender).
    broadcast: Broadcast | None = None


ROOM_ROUTES = web.AppKey("federation_room_routes", RoomRoutes)


def _routes(request: web.Request) -> RoomRoutes:
    return request.app[ROOM_ROUTES]


async def _check_acl(request: web.Request, origin: str, room_id: str) -> None:
    check = _routes(request).acl_allows
    if check is not None and not await check(origin, room_id):
        raise MatrixError(403, "M_FORBIDDEN", f"{origin} is banned from the room by its ACL")


async def send_transaction(request: web.Request, origin: str) -> web.Response:
    body = await request.json()
    txn_id = request.match_info["txnId"]
    return json_response(await _routes(request).transactions.on_send(origin, txn_id, body))


def _make(membership: str) -> Callable[[web.Request, str], Awaitable[web.Response]]:
    async def handler(request: web.Request, origin: str) -> web.Response:
        room_id = request.match_info["roomId"]
        await _check_acl(request, origin, room_id)
        versions = request.query.getall("ver") or ["1"]
        answer = await _routes(request).handshakes.make(
            origin, membership, room_id, request.match_info["userId"], versions
        )
        return json_response(answer)

    return handler


def _send(membership: str, api: int) -> Callable[[web.Request, str], Awaitable[web.Response]]:
    async def handler(request: web.Request, origin: str) -> web.Response:
        room_id = request.match_info["roomId"]
        await _check_acl(request, origin, room_id)
        routes = _routes(request)
        server = routes.handshakes
        event, accepted = await server.send(
            origin, membership, room_id, request.match_info["eventId"], await request.json()
        )
        if routes.broadcast is not None:
            await routes.broadcast(event, {origin})
        if membership == "leave":
            return json_response([200, {}] if api == 1 else {})
        if membership == "knock":
            stripped = await server.rooms.state_events(
                room_id, [(t, "") for t in STRIPPED_STATE_TYPES]
            )
            return json_response(
                {"knock_room_state": [pdu_for_federation(e.pdu) for e in stripped.values()]}
            )
        state, chain = await server.state_and_auth_chain(accepted.state_before, event)
        servers = sorted(
            {
                key.partition(":")[2]
                for (typ, key) in accepted.state_before
                if typ == "m.room.member"
            }
            | {origin}
        )
        body = {
            "origin": server.server_name,
            "state": state,
            "auth_chain": chain,
            "event": pdu_for_federation(event.pdu),
            "members_omitted": False,
            "servers_in_room": servers,
        }
        return json_response([200, body] if api == 1 else body)

    return handler


async def invite_v2(request: web.Request, origin: str) -> web.Response:
    room_id = request.match_info["roomId"]
    await _check_acl(request, origin, room_id)
    answer = await _routes(request).invites.on_invite(
        origin, room_id, request.match_info["eventId"], await request.json()
    )
    return json_response(answer)


def setup(app: web.Application, routes: RoomRoutes) -> None:
    app[ROOM_ROUTES] = routes
    prefix = "/_matrix/federation"
    table: list[web.RouteDef] = [
        web.put(f"{prefix}/v1/send/{{txnId}}", authenticated(send_transaction)),
        web.put(f"{prefix}/v2/invite/{{roomId}}/{{eventId}}", authenticated(invite_v2)),
    ]
    for membership in ("join", "leave", "knock"):
        table.append(
            web.get(
                f"{prefix}/v1/make_{membership}/{{roomId}}/{{userId}}",
                authenticated(_make(membership)),
            )
        )
        table.append(
            web.put(
                f"{prefix}/v1/send_{membership}/{{roomId}}/{{eventId}}",
                authenticated(_send(membership, 1)),
            )
        )
        if membership != "knock":
            table.append(
                web.put(
                    f"{prefix}/v2/send_{membership}/{{roomId}}/{{eventId}}",
                    authenticated(_send(membership, 2)),
                )
            )
    app.add_routes(table)
