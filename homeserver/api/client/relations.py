"""``GET /rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]`` and
``GET /rooms/{roomId}/threads`` (client-server API v1).

spec: client-server "Relationships API", "Querying threads in a room".
``setup(app)`` runs in ``build_app`` after the room handlers exist: it builds the
relations handler, registers its rules for local sends with the pipeline and adds
the routes.
"""

from __future__ import annotations

from homeserver.api.responses import json_response
from homeserver.appkeys import PIPELINE_KEY, ROOMS_KEY, STORE_KEY
from homeserver.errors import MatrixError
from homeserver.http import web
from homeserver.rooms.relations import DEFAULT_LIMIT, MAX_LIMIT, RelationsHandler
from homeserver.rooms.sending import check_event_type

from ..auth import require_user
from .rooms_common import (
    ROOM_HANDLERS_KEY,
    event_id_param,
    int_param,
    paths,
    room_id_param,
    viewer,
)

RELATIONS_KEY = web.AppKey("relations", RelationsHandler)

V1 = ("v1",)


def _handler(request: web.Request) -> RelationsHandler:
    return request.config_dict[RELATIONS_KEY]


def _bool_param(request: web.Request, name: str) -> bool | None:
    text = request.query.get(name)
    if text is None:
        return None
    if text not in ("true", "false"):
        raise MatrixError(400, "M_INVALID_PARAM", f"`{name}` must be true or false")
    return text == "true"


def _token_param(request: web.Request, name: str) -> str | None:
    return request.query.get(name) or None


async def relations(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    event_id = event_id_param(request)
    rel_type = request.match_info.get("relType")
    event_type = request.match_info.get("eventType")
    if rel_type is not None:
        check_event_type(rel_type)  # the same 1..255 bytes as an event type
    if event_type is not None:
        check_event_type(event_type)
    direction = request.query.get("dir", "b")
    if direction not in ("b", "f"):
        raise MatrixError(400, "M_INVALID_PARAM", "`dir` must be b or f")
    limit = int_param(request, "limit", DEFAULT_LIMIT, maximum=MAX_LIMIT)
    # The unstable name of MSC3981 is still what some clients send.
    recurse = _bool_param(request, "recurse")
    if recurse is None:
        recurse = _bool_param(request, "org.matrix.msc3981.recurse")
    body = await _handler(request).relations(
        viewer(requester),
        room_id,
        event_id,
        rel_type=rel_type,
        event_type=event_type,
        from_token=_token_param(request, "from"),
        to_token=_token_param(request, "to"),
        backwards=direction == "b",
        limit=limit,
        recurse=recurse,
    )
    return json_response(body)


async def threads(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    include = request.query.get("include", "all")
    if include not in ("all", "participated"):
        raise MatrixError(400, "M_INVALID_PARAM", "`include` must be all or participated")
    limit = int_param(request, "limit", DEFAULT_LIMIT, maximum=MAX_LIMIT)
    if limit == 0:
        # spec: "Must be an integer greater than zero".
        raise MatrixError(400, "M_INVALID_PARAM", "`limit` must be greater than zero")
    body = await _handler(request).threads(
        viewer(requester),
        room_id,
        participated=include == "participated",
        from_token=_token_param(request, "from"),
        limit=limit,
    )
    return json_response(body)


def routes() -> list[web.RouteDef]:
    out: list[web.RouteDef] = []
    for suffix in (
        "/rooms/{roomId}/relations/{eventId}",
        "/rooms/{roomId}/relations/{eventId}/{relType}",
        "/rooms/{roomId}/relations/{eventId}/{relType}/{eventType}",
    ):
        out += [web.get(p, relations) for p in paths(suffix, V1)]
    out += [web.get(p, threads) for p in paths("/rooms/{roomId}/threads", V1)]
    return out


def setup(app: web.Application) -> RelationsHandler:
    rooms = app[ROOM_HANDLERS_KEY]
    handler = app[RELATIONS_KEY] = RelationsHandler(
        app[STORE_KEY], app[ROOMS_KEY], rooms.access, rooms.messages.renderer
    )
    app[PIPELINE_KEY].send_checks.append(handler.check_send)
    app.add_routes(routes())
    return handler
