"""Pushers and notifications.

spec: client-server ``GET /pushers``, ``POST /pushers/set`` and "Listing
Notifications" (``GET /notifications``).
"""

from __future__ import annotations

from homeserver.api.responses import json_response
from homeserver.appkeys import PUSH_KEY
from homeserver.http import web
from homeserver.push.notifications import parse_from, parse_limit
from homeserver.push.pushers import parse_pusher_request

from ..auth import require_user
from ..request_body import json_object
from .sync import client_paths


async def get_pushers(request: web.Request) -> web.Response:
    requester = await require_user(request)
    return json_response(await request.app[PUSH_KEY].pushers.list(requester.user_id))


async def set_pusher(request: web.Request) -> web.Response:
    requester = await require_user(request)
    pusher = parse_pusher_request(await json_object(request))
    await request.app[PUSH_KEY].pushers.set(requester.user_id, requester.device_id, pusher)
    return json_response({})


async def get_notifications(request: web.Request) -> web.Response:
    requester = await require_user(request)
    query = request.query
    body = await request.app[PUSH_KEY].notifications.list(
        requester.user_id,
        parse_from(query.get("from")),
        parse_limit(query.get("limit")),
        query.get("only"),
    )
    return json_response(body)


def routes() -> list[web.RouteDef]:
    return [
        *(web.get(p, get_pushers) for p in client_paths("/pushers")),
        *(web.post(p, set_pusher) for p in client_paths("/pushers/set")),
        *(web.get(p, get_notifications) for p in client_paths("/notifications")),
    ]
