"""Account data and room tags.

spec: client-server "Client Config" (``/user/{userId}/account_data/{type}``,
``/user/{userId}/rooms/{roomId}/account_data/{type}``) and "Room Tagging"
(``/user/{userId}/rooms/{roomId}/tags[/{tag}]``).
"""

from __future__ import annotations

from homeserver.api.responses import json_response
from homeserver.appkeys import ACCOUNT_DATA_KEY
from homeserver.http import web

from ..auth import require_user
from ..request_body import json_object
from .sync import client_paths


async def get_global(request: web.Request) -> web.Response:
    requester = await require_user(request)
    info = request.match_info
    content = await request.app[ACCOUNT_DATA_KEY].get(
        requester.user_id, info["userId"], None, info["type"]
    )
    return json_response(content)


async def put_global(request: web.Request) -> web.Response:
    requester = await require_user(request)
    info = request.match_info
    body = await json_object(request)
    await request.app[ACCOUNT_DATA_KEY].put(
        requester.user_id, info["userId"], None, info["type"], body
    )
    return json_response({})


async def get_room(request: web.Request) -> web.Response:
    requester = await require_user(request)
    info = request.match_info
    content = await request.app[ACCOUNT_DATA_KEY].get(
        requester.user_id, info["userId"], info["roomId"], info["type"]
    )
    return json_response(content)


async def put_room(request: web.Request) -> web.Response:
    requester = await require_user(request)
    info = request.match_info
    body = await json_object(request)
    await request.app[ACCOUNT_DATA_KEY].put(
        requester.user_id, info["userId"], info["roomId"], info["type"], body
    )
    return json_response({})


async def get_tags(request: web.Request) -> web.Response:
    requester = await require_user(request)
    info = request.match_info
    tags = await request.app[ACCOUNT_DATA_KEY].tags(
        requester.user_id, info["userId"], info["roomId"]
    )
    return json_response(tags)


async def put_tag(request: web.Request) -> web.Response:
    requester = await require_user(request)
    info = request.match_info
    body = await json_object(request, allow_empty=True)
    await request.app[ACCOUNT_DATA_KEY].put_tag(
        requester.user_id, info["userId"], info["roomId"], info["tag"], body
    )
    return json_response({})


async def delete_tag(request: web.Request) -> web.Response:
    requester = await require_user(request)
    info = request.match_info
    await request.app[ACCOUNT_DATA_KEY].delete_tag(
        requester.user_id, info["userId"], info["roomId"], info["tag"]
    )
    return json_response({})


def routes() -> list[web.RouteDef]:
    global_path = "/user/{userId}/account_data/{type}"
    room_path = "/user/{userId}/rooms/{roomId}/account_data/{type}"
    tags_path = "/user/{userId}/rooms/{roomId}/tags"
    return [
        *(web.get(p, get_global) for p in client_paths(global_path)),
        *(web.put(p, put_global) for p in client_paths(global_path)),
        *(web.get(p, get_room) for p in client_paths(room_path)),
        *(web.put(p, put_room) for p in client_paths(room_path)),
        *(web.get(p, get_tags) for p in client_paths(tags_path)),
        *(web.put(p, put_tag) for p in client_paths(tags_path + "/{tag}")),
        *(web.delete(p, delete_tag) for p in client_paths(tags_path + "/{tag}")),
    ]
