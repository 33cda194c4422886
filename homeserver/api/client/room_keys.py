"""``/room_keys/version[/{version}]`` and ``/room_keys/keys[/{roomId}[/{sessionId}]]``.

spec: client-server "Server-side key backups".
"""

from __future__ import annotations

from homeserver.api.auth import require_user
from homeserver.api.request_body import json_object
from homeserver.api.responses import json_response
from homeserver.e2ee import validation
from homeserver.errors import MatrixError, bad_json
from homeserver.http import web
from homeserver.storage.key_backup_store import RoomKey

from .e2ee_common import e2ee, paths


def _version_param(request: web.Request) -> str:
    version = request.query.get("version")
    if version is None:
        raise MatrixError(400, "M_MISSING_PARAM", "`version` is required")
    return version


async def create_version(request: web.Request) -> web.Response:
    requester = await require_user(request)
    body = await json_object(request)
    return json_response(await e2ee(request).backup.create_version(requester.user_id, body))


async def get_current_version(request: web.Request) -> web.Response:
    requester = await require_user(request)
    return json_response(await e2ee(request).backup.get_version(requester.user_id, None))


async def get_version(request: web.Request) -> web.Response:
    requester = await require_user(request)
    version = request.match_info["version"]
    return json_response(await e2ee(request).backup.get_version(requester.user_id, version))


async def put_version(request: web.Request) -> web.Response:
    requester = await require_user(request)
    body = await json_object(request)
    version = request.match_info["version"]
    await e2ee(request).backup.update_version(requester.user_id, version, body)
    return json_response({})


async def delete_version(request: web.Request) -> web.Response:
    requester = await require_user(request)
    await e2ee(request).backup.delete_version(requester.user_id, request.match_info["version"])
    return json_response({})


def _keys_in_body(request: web.Request, body: dict[str, object]) -> list[tuple[str, str, RoomKey]]:
    room_id = request.match_info.get("roomId")
    session_id = request.match_info.get("sessionId")
    if room_id is not None and session_id is not None:
        return [(room_id, session_id, validation.parse_room_key(body))]
    if room_id is not None:
        return validation.parse_room_sessions(body, room_id)
    rooms = body.get("rooms")
    if not isinstance(rooms, dict):
        raise bad_json("`rooms` must be an object")
    keys: list[tuple[str, str, RoomKey]] = []
    for room, sessions in rooms.items():
        keys += validation.parse_room_sessions(sessions, room)
    return keys


async def put_keys(request: web.Request) -> web.Response:
    requester = await require_user(request)
    version = _version_param(request)
    keys = _keys_in_body(request, await json_object(request))
    return json_response(await e2ee(request).backup.put_keys(requester.user_id, version, keys))


async def get_keys(request: web.Request) -> web.Response:
    requester = await require_user(request)
    version = _version_param(request)
    found = await e2ee(request).backup.get_keys(
        requester.user_id,
        version,
        request.match_info.get("roomId"),
        request.match_info.get("sessionId"),
    )
    return json_response(found)


async def delete_keys(request: web.Request) -> web.Response:
    requester = await require_user(request)
    version = _version_param(request)
    counted = await e2ee(request).backup.delete_keys(
        requester.user_id,
        version,
        request.match_info.get("roomId"),
        request.match_info.get("sessionId"),
    )
    return json_response(counted)


def routes() -> list[web.RouteDef]:
    routes: list[web.RouteDef] = []
    for path in paths("/room_keys"):
        routes += [
            web.post(path + "/version", create_version),
            web.get(path + "/version", get_current_version),
            web.get(path + "/version/{version}", get_version),
            web.put(path + "/version/{version}", put_version),
            web.delete(path + "/version/{version}", delete_version),
        ]
        for suffix in ("/keys", "/keys/{roomId}", "/keys/{roomId}/{sessionId}"):
            routes += [
                web.put(path + suffix, put_keys),
                web.get(path + suffix, get_keys),
                web.delete(path + suffix, delete_keys),
            ]
    return routes
