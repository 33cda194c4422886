"""``PUT /rooms/{roomId}/typing/{userId}`` (spec: client-server "Typing Notifications")."""

from __future__ import annotations

from homeserver.ephemeral.typing import DEFAULT_TIMEOUT_MS, TypingTracker
from homeserver.errors import MatrixError, bad_json
from homeserver.http import web

from ..auth import require_user
from ..request_body import json_object
from ..responses import json_response
from .rooms_common import handlers, paths, room_id_param

TYPING_KEY = web.AppKey("typing", TypingTracker)


async def put_typing(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    if request.match_info["userId"] != requester.user_id:
        raise MatrixError(403, "M_FORBIDDEN", "You can only set your own typing state")
    body = await json_object(request)
    typing = body.get("typing")
    if not isinstance(typing, bool):
        raise bad_json("`typing` must be true or false")
    timeout = body.get("timeout", DEFAULT_TIMEOUT_MS)
    if typing and (not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 0):
        raise bad_json("`timeout` must be a non-negative integer of milliseconds")
    membership = await handlers(request).access.current_membership(room_id, requester.user_id)
    if membership != "join":
        raise MatrixError(403, "M_FORBIDDEN", "You are not in this room")
    request.app[TYPING_KEY].set_typing(room_id, requester.user_id, typing, timeout)
    return json_response({})


def routes() -> list[web.RouteDef]:
    return [web.put(p, put_typing) for p in paths("/rooms/{roomId}/typing/{userId}")]
