"""Room aliases and the published room directory.

spec: client-server "Room aliases" and "Listing rooms".
"""

from __future__ import annotations

from typing import Any

from homeserver.api.responses import json_response
from homeserver.errors import MatrixError, bad_json
from homeserver.http import web
from homeserver.protocol.ids import is_valid_server_name
from homeserver.rooms.directory import MAX_PUBLIC_ROOMS_LIMIT, PublicRoomsQuery

from ..auth import require_user
from ..request_body import json_object
from .rooms_common import handlers, int_param, paths, room_id_param


async def put_alias(request: web.Request) -> web.Response:
    requester = await require_user(request)
    body = await json_object(request)
    room_id = body.get("room_id")
    if room_id is None:
        raise MatrixError(400, "M_MISSING_PARAM", "`room_id` is required")
    if not isinstance(room_id, str) or not room_id.startswith("!"):
        raise bad_json("`room_id` must be a room id")
    await handlers(request).directory.create_alias(
        requester.user_id, request.match_info["roomAlias"], room_id
    )
    return json_response({})


async def get_alias(request: web.Request) -> web.Response:
    body = await handlers(request).directory.resolve(request.match_info["roomAlias"])
    return json_response(body)


async def delete_alias(request: web.Request) -> web.Response:
    requester = await require_user(request)
    await handlers(request).directory.delete_alias(
        requester.user_id, request.match_info["roomAlias"], is_admin=requester.is_admin
    )
    return json_response({})


async def room_aliases(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    aliases = await handlers(request).directory.room_aliases(requester.user_id, room_id)
    return json_response({"aliases": aliases})


async def get_visibility(request: web.Request) -> web.Response:
    room_id = room_id_param(request)
    visibility = await handlers(request).directory.get_visibility(room_id)
    return json_response({"visibility": visibility})


async def put_visibility(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    body = await json_object(request)
    visibility = body.get("visibility", "public")
    if not isinstance(visibility, str):
        raise bad_json("`visibility` must be a string")
    await handlers(request).directory.set_visibility(
        requester.user_id, room_id, visibility, is_admin=requester.is_admin
    )
    return json_response({})


def _remote_server(request: web.Request, server: object) -> str | None:
    """The ``server`` parameter when it names another server (None: ours)."""
    if server is None or server == "" or server == handlers(request).directory.pipeline.server_name:
        return None
    if not isinstance(server, str) or not is_valid_server_name(server):
        raise MatrixError(400, "M_INVALID_PARAM", "`server` must be a server name")
    return server


async def public_rooms_get(request: web.Request) -> web.Response:
    server = _remote_server(request, request.query.get("server"))
    query = PublicRoomsQuery(
        limit=int_param(request, "limit", 0, maximum=MAX_PUBLIC_ROOMS_LIMIT) or None,
        since=request.query.get("since"),
    )
    directory = handlers(request).directory
    if server is not None:
        return json_response(await directory.remote_public_rooms(server, query))
    return json_response(await directory.public_rooms(query))


def _room_types(flt: dict[str, Any]) -> tuple[str | None, ...] | None:
    value = flt.get("room_types")
    if value is None:
        return None
    if not isinstance(value, list) or not all(v is None or isinstance(v, str) for v in value):
        raise bad_json("`filter.room_types` must be a list of strings or null")
    return tuple(value)


async def public_rooms_post(request: web.Request) -> web.Response:
    await require_user(request)
    server = _remote_server(request, request.query.get("server"))
    body = await json_object(request, allow_empty=True)
    limit = body.get("limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise bad_json("`limit` must be a non-negative integer")
    since = body.get("since")
    if since is not None and not isinstance(since, str):
        raise bad_json("`since` must be a string")
    flt = body.get("filter") or {}
    if not isinstance(flt, dict):
        raise bad_json("`filter` must be an object")
    term = flt.get("generic_search_term")
    if term is not None and not isinstance(term, str):
        raise bad_json("`filter.generic_search_term` must be a string")
    query = PublicRoomsQuery(
        limit=limit or None, since=since, search_term=term, room_types=_room_types(flt)
    )
    directory = handlers(request).directory
    if server is not None:
        return json_response(await directory.remote_public_rooms(server, query))
    return json_response(await directory.public_rooms(query))


def routes() -> list[web.RouteDef]:
    out: list[web.RouteDef] = []
    for p in paths("/directory/room/{roomAlias}"):
        out += [web.put(p, put_alias), web.get(p, get_alias), web.delete(p, delete_alias)]
    out += [web.get(p, room_aliases) for p in paths("/rooms/{roomId}/aliases")]
    for p in paths("/directory/list/room/{roomId}"):
        out += [web.get(p, get_visibility), web.put(p, put_visibility)]
    for p in paths("/publicRooms"):
        out += [web.get(p, public_rooms_get), web.post(p, public_rooms_post)]
    return out
