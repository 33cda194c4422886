"""``GET/PUT /presence/{userId}/status`` (spec: client-server "Presence")."""

from __future__ import annotations

from homeserver.ephemeral.presence import PresenceHandler
from homeserver.errors import MatrixError, bad_json
from homeserver.http import web

from ..auth import require_user
from ..request_body import json_object, opt_str
from ..responses import json_response
from .rooms_common import paths

PRESENCE_KEY = web.AppKey("presence", PresenceHandler)


async def get_status(request: web.Request) -> web.Response:
    requester = await require_user(request)
    user_id = request.match_info["userId"]
    presence = request.app[PRESENCE_KEY]
    if not await presence.shares_room(requester.user_id, user_id):
        raise MatrixError(403, "M_FORBIDDEN", "You do not share a room with this user")
    return json_response(await presence.status(user_id))


async def put_status(request: web.Request) -> web.Response:
    requester = await require_user(request)
    if request.match_info["userId"] != requester.user_id:
        raise MatrixError(403, "M_FORBIDDEN", "You can only set your own presence")
    body = await json_object(request)
    state = body.get("presence")
    if not isinstance(state, str):
        raise bad_json("`presence` must be a string")
    status_msg = opt_str(body, "status_msg")
    await request.app[PRESENCE_KEY].set_chosen(requester.user_id, state, status_msg)
    return json_response({})


def routes() -> list[web.RouteDef]:
    suffix = "/presence/{userId}/status"
    return [
        *(web.get(p, get_status) for p in paths(suffix)),
        *(web.put(p, put_status) for p in paths(suffix)),
    ]
