"""``POST /rooms/{roomId}/report/{eventId}``, ``/rooms/{roomId}/report`` (v1.13) and
``/users/{userId}/report`` (v1.14). spec: client-server "Reporting Content"."""

from __future__ import annotations

from typing import Any

from homeserver.api.responses import json_response
from homeserver.errors import MatrixError
from homeserver.http import web
from homeserver.profiles.handler import check_user_id

from ..auth import require_user
from ..request_body import json_object, opt_str
from .profiles_common import user_handlers
from .rooms_common import event_id_param, paths, room_id_param

# Before v1.18 an event report carried a `score` from -100 (most offensive) to 0; it is
# kept when a client still sends a valid one, and ignored otherwise (no longer spec).
_SCORE_RANGE = range(-100, 1)


def _required_reason(body: dict[str, Any]) -> str:
    if "reason" not in body:
        raise MatrixError(400, "M_MISSING_PARAM", "`reason` is required (it may be blank)")
    reason = opt_str(body, "reason")
    if reason is None:
        raise MatrixError(400, "M_BAD_JSON", "`reason` must be a string")
    return reason


async def report_event(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    event_id = event_id_param(request)
    body = await json_object(request, allow_empty=True)
    reason = opt_str(body, "reason")
    score = body.get("score")
    if isinstance(score, bool) or not isinstance(score, int) or score not in _SCORE_RANGE:
        score = None
    await user_handlers(request).reports.report_event(
        requester.user_id, room_id, event_id, reason, score
    )
    return json_response({})


async def report_room(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    reason = _required_reason(await json_object(request))
    await user_handlers(request).reports.report_room(requester.user_id, room_id, reason)
    return json_response({})


async def report_user(request: web.Request) -> web.Response:
    requester = await require_user(request)
    user_id = check_user_id(request.match_info["userId"])
    reason = _required_reason(await json_object(request))
    await user_handlers(request).reports.report_user(requester.user_id, user_id, reason)
    return json_response({})


def routes() -> list[web.RouteDef]:
    return [
        *(web.post(p, report_event) for p in paths("/rooms/{roomId}/report/{eventId}")),
        *(web.post(p, report_room) for p in paths("/rooms/{roomId}/report")),
        *(web.post(p, report_user) for p in paths("/users/{userId}/report")),
    ]
