"""``GET /rooms/{roomId}/messages``, ``GET /rooms/{roomId}/context/{eventId}`` and
``GET /v1/rooms/{roomId}/timestamp_to_event``.

spec: client-server "Getting events for a room" / "Syncing" (pagination), "Event
Context" and "Room event by timestamp".
"""

from __future__ import annotations

from homeserver.api.responses import json_response
from homeserver.errors import MatrixError
from homeserver.http import web
from homeserver.rooms.event_filter import EventFilter
from homeserver.rooms.messages import DEFAULT_LIMIT, MAX_LIMIT

from ..auth import require_user
from .rooms_common import event_id_param, handlers, int_param, paths, room_id_param, viewer


async def messages(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    direction = request.query.get("dir", "b")
    if direction not in ("b", "f"):
        raise MatrixError(400, "M_INVALID_PARAM", "`dir` must be b or f")
    limit = int_param(request, "limit", DEFAULT_LIMIT, maximum=MAX_LIMIT)
    body = await handlers(request).messages.messages(
        viewer(requester),
        room_id,
        from_token=request.query.get("from") or None,
        to_token=request.query.get("to") or None,
        backwards=direction == "b",
        limit=limit,
        flt=EventFilter.from_query(request.query.get("filter")),
    )
    return json_response(body)


async def context(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    event_id = event_id_param(request)
    limit = int_param(request, "limit", DEFAULT_LIMIT, maximum=MAX_LIMIT)
    body = await handlers(request).messages.context(
        viewer(requester),
        room_id,
        event_id,
        limit=limit,
        flt=EventFilter.from_query(request.query.get("filter")),
    )
    return json_response(body)


async def timestamp_to_event(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    direction = request.query.get("dir")
    if direction not in ("b", "f"):
        raise MatrixError(400, "M_INVALID_PARAM", "`dir` must be b or f")
    ts_text = request.query.get("ts")
    if ts_text is None:
        raise MatrixError(400, "M_MISSING_PARAM", "`ts` is required")
    if not ts_text.isdigit():
        raise MatrixError(400, "M_INVALID_PARAM", "`ts` must be a timestamp in milliseconds")
    body = await handlers(request).messages.closest_event(
        viewer(requester), room_id, int(ts_text), backwards=direction == "b"
    )
    return json_response(body)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/_matrix/client/v1/rooms/{roomId}/timestamp_to_event", timestamp_to_event),
        *(web.get(p, messages) for p in paths("/rooms/{roomId}/messages")),
        *(web.get(p, context) for p in paths("/rooms/{roomId}/context/{eventId}")),
    ]
