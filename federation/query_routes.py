"""Federation queries other servers make of us: profiles, aliases, the room directory,
space hierarchies.

spec: server-server "Querying for information" (``GET /query/profile``,
``GET /query/directory``), "Published Room Directory" (``GET``/``POST /publicRooms``)
and "Spaces" (``GET /hierarchy/{roomId}``). Only local users and aliases are answered;
anything else is 404 ``M_NOT_FOUND``, as for a user or alias that does not exist.
Every route is wrapped by ``federation.inbound_auth.authenticated`` (X-Matrix).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeserver.api.request_body import json_object
from homeserver.api.responses import json_response
from homeserver.errors import MatrixError, bad_json
from homeserver.http import web
from homeserver.profiles.handler import ProfileHandler, check_field_key, check_user_id
from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.ids import parse_room_alias, parse_room_id, server_name_of
from homeserver.rooms.directory import MAX_PUBLIC_ROOMS_LIMIT, DirectoryHandler, PublicRoomsQuery
from homeserver.rooms.hierarchy import SpaceHierarchy

OriginHandler = Callable[[web.Request, str], Awaitable[web.StreamResponse]]
Authenticate = Callable[[OriginHandler], Callable[[web.Request], Awaitable[web.StreamResponse]]]

PREFIX = "/_matrix/federation/v1"


@dataclass(frozen=True, slots=True)
class QueryServices:
    server_name: str
    profiles: ProfileHandler
    directory: DirectoryHandler
    hierarchy: SpaceHierarchy


QUERY_SERVICES = web.AppKey("federation_query_services", QueryServices)


def _services(request: web.Request) -> QueryServices:
    return request.config_dict[QUERY_SERVICES]


def _required(request: web.Request, name: str) -> str:
    value = request.query.get(name)
    if value is None:
        raise MatrixError(400, "M_MISSING_PARAM", f"`{name}` is required")
    return value


def _not_found(message: str) -> MatrixError:
    return MatrixError(404, "M_NOT_FOUND", message)


async def query_profile(request: web.Request, origin: str) -> web.Response:
    services = _services(request)
    user_id = check_user_id(_required(request, "user_id"))
    field = request.query.get("field")
    if field is not None:
        check_field_key(field)
    if server_name_of(user_id) != services.server_name:
        raise _not_found("The user is not on this server")
    profile = await services.profiles.get_profile(user_id)  # 404 for an unknown user
    if field is None:
        return json_response(profile)
    # spec: "If a field is specified in the request, the response MUST only include
    # the specified field"; a field not set is 404.
    if field not in profile:
        raise _not_found(f"No `{field}` in this profile")
    return json_response({field: profile[field]})


async def query_directory(request: web.Request, origin: str) -> web.Response:
    services = _services(request)
    alias = _required(request, "room_alias")
    try:
        _, server = parse_room_alias(alias)
    except InvalidIdentifier as exc:
        raise MatrixError(400, "M_INVALID_PARAM", f"Room alias invalid: {exc}") from exc
    if server != services.server_name:
        raise _not_found("Room alias not found.")
    return json_response(await services.directory.resolve(alias))


def _limit(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise MatrixError(400, "M_INVALID_PARAM", "`limit` must be an integer") from None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MatrixError(400, "M_INVALID_PARAM", "`limit` must be a non-negative integer")
    # spec: 0 means no limit; ours is capped either way.
    return min(value, MAX_PUBLIC_ROOMS_LIMIT) or None


def _empty_page() -> dict[str, Any]:
    return {"chunk": [], "total_room_count_estimate": 0}


async def public_rooms_get(request: web.Request, origin: str) -> web.Response:
    query = PublicRoomsQuery(
        limit=_limit(request.query.get("limit")), since=request.query.get("since")
    )
    if request.query.get("third_party_instance_id"):
        # No application-service networks here: such a directory is empty.
        return json_response(_empty_page())
    return json_response(await _services(request).directory.public_rooms(query))


async def public_rooms_post(request: web.Request, origin: str) -> web.Response:
    body = await json_object(request, allow_empty=True)
    since = body.get("since")
    if since is not None and not isinstance(since, str):
        raise bad_json("`since` must be a string")
    flt = body.get("filter") or {}
    if not isinstance(flt, dict):
        raise bad_json("`filter` must be an object")
    term = flt.get("generic_search_term")
    if term is not None and not isinstance(term, str):
        raise bad_json("`filter.generic_search_term` must be a string")
    types = flt.get("room_types")
    if types is not None and (
        not isinstance(types, list) or not all(t is None or isinstance(t, str) for t in types)
    ):
        raise bad_json("`filter.room_types` must be a list of strings or null")
    if body.get("third_party_instance_id"):
        return json_response(_empty_page())
    query = PublicRoomsQuery(
        limit=_limit(body.get("limit")),
        since=since,
        search_term=term,
        room_types=None if types is None else tuple(types),
    )
    return json_response(await _services(request).directory.public_rooms(query))


async def hierarchy(request: web.Request, origin: str) -> web.Response:
    room_id = request.match_info["roomId"]
    try:
        parse_room_id(room_id)
    except InvalidIdentifier as exc:
        raise MatrixError(400, "M_INVALID_PARAM", f"invalid room id: {exc}") from exc
    flag = request.query.get("suggested_only", "false")
    if flag not in ("true", "false"):
        raise MatrixError(400, "M_INVALID_PARAM", "`suggested_only` must be true or false")
    body = await _services(request).hierarchy.for_server(
        origin, room_id, suggested_only=flag == "true"
    )
    return json_response(body)


def routes(authenticated: Authenticate) -> list[web.RouteDef]:
    return [
        web.get(PREFIX + "/query/profile", authenticated(query_profile)),
        web.get(PREFIX + "/query/directory", authenticated(query_directory)),
        web.get(PREFIX + "/publicRooms", authenticated(public_rooms_get)),
        web.post(PREFIX + "/publicRooms", authenticated(public_rooms_post)),
        web.get(PREFIX + "/hierarchy/{roomId}", authenticated(hierarchy)),
    ]
