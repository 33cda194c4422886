"""Room creation, membership and upgrade routes.

spec: client-server "POST /createRoom", "Room membership" (join, knock, invite, leave,
forget, kick, ban, unban, ``GET /joined_rooms``), "POST /rooms/{roomId}/upgrade".
"""

from __future__ import annotations

from typing import Any

from homeserver.api.responses import json_response
from homeserver.appkeys import NOTIFIER_KEY
from homeserver.errors import MatrixError, bad_json
from homeserver.http import web
from homeserver.protocol.errors import UnknownRoomVersion
from homeserver.protocol.room_versions import room_version
from homeserver.rooms.creation import parse_create_room
from homeserver.rooms.membership import check_user_id

from ..auth import require_user
from ..request_body import json_object, opt_str
from .rooms_common import handlers, paths, room_id_param

# spec: reasons are free text; keep them to a sane size.
MAX_REASON_LENGTH = 1024


def _reason(body: dict[str, Any]) -> str | None:
    return opt_str(body, "reason", max_length=MAX_REASON_LENGTH)


async def create_room(request: web.Request) -> web.Response:
    requester = await require_user(request)
    req = parse_create_room(await json_object(request, allow_empty=True))
    room_id = await handlers(request).creator.create_room(requester.user_id, req)
    return json_response({"room_id": room_id})


async def join_room_id(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    body = await json_object(request, allow_empty=True)
    await handlers(request).membership.join(requester.user_id, room_id, reason=_reason(body))
    return json_response({"room_id": room_id})


def _via(request: web.Request) -> list[str]:
    """spec: "POST /join/{roomIdOrAlias}" — servers to go through: ``via`` (and its
    deprecated name ``server_name``)."""
    return [*request.query.getall("via"), *request.query.getall("server_name")]


async def join_any(request: web.Request) -> web.Response:
    requester = await require_user(request)
    membership = handlers(request).membership
    room_id, servers = await membership.resolve_room_and_servers(
        request.match_info["roomIdOrAlias"]
    )
    body = await json_object(request, allow_empty=True)
    await membership.join(
        requester.user_id, room_id, reason=_reason(body), servers=[*_via(request), *servers]
    )
    return json_response({"room_id": room_id})


async def knock(request: web.Request) -> web.Response:
    requester = await require_user(request)
    membership = handlers(request).membership
    room_id, servers = await membership.resolve_room_and_servers(
        request.match_info["roomIdOrAlias"]
    )
    body = await json_object(request, allow_empty=True)
    await membership.knock(
        requester.user_id, room_id, reason=_reason(body), servers=[*_via(request), *servers]
    )
    return json_response({"room_id": room_id})


async def leave(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    body = await json_object(request, allow_empty=True)
    await handlers(request).membership.leave(requester.user_id, room_id, reason=_reason(body))
    return json_response({})


async def forget(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    await handlers(request).membership.forget(requester.user_id, room_id)
    # /forget writes memberships directly, not through the event pipeline: tell sync.
    request.app[NOTIFIER_KEY].memberships.invalidate(requester.user_id)
    return json_response({})


async def target_action(request: web.Request) -> web.Response:
    """invite / kick / ban / unban: a change to another user's membership."""
    requester = await require_user(request)
    room_id = room_id_param(request)
    action = request.match_info["action"]
    body = await json_object(request)
    if "user_id" not in body:
        raise MatrixError(400, "M_MISSING_PARAM", "`user_id` is required")
    target = check_user_id(body["user_id"])
    reason = _reason(body)
    membership = handlers(request).membership
    sender = requester.user_id
    if action == "invite":
        await membership.invite(sender, room_id, target, reason=reason)
    elif action == "kick":
        await membership.kick(sender, room_id, target, reason=reason)
    elif action == "ban":
        await membership.ban(sender, room_id, target, reason=reason)
    else:
        await membership.unban(sender, room_id, target, reason=reason)
    return json_response({})


async def joined_rooms(request: web.Request) -> web.Response:
    requester = await require_user(request)
    rooms = await handlers(request).membership.joined_rooms(requester.user_id)
    return json_response({"joined_rooms": rooms})


async def upgrade(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    body = await json_object(request)
    new_version = body.get("new_version")
    if not isinstance(new_version, str):
        raise MatrixError(400, "M_BAD_JSON", "`new_version` must be a string")
    try:
        version = room_version(new_version)
    except UnknownRoomVersion:
        raise MatrixError(
            400, "M_UNSUPPORTED_ROOM_VERSION", "This server does not support that room version"
        ) from None
    extra = body.get("additional_creators")
    creators: list[str] | None = None
    if extra is not None:
        if not isinstance(extra, list):
            raise bad_json("`additional_creators` must be a list of user ids")
        creators = [check_user_id(item, "additional_creators") for item in extra]
    new_room = await handlers(request).upgrader.upgrade(
        requester.user_id, room_id, version, creators
    )
    return json_response({"replacement_room": new_room})


def routes() -> list[web.RouteDef]:
    out: list[web.RouteDef] = []
    out += [web.post(p, create_room) for p in paths("/createRoom")]
    out += [web.post(p, join_room_id) for p in paths("/rooms/{roomId}/join")]
    out += [web.post(p, join_any) for p in paths("/join/{roomIdOrAlias}")]
    out += [web.post(p, knock) for p in paths("/knock/{roomIdOrAlias}")]
    out += [web.post(p, leave) for p in paths("/rooms/{roomId}/leave")]
    out += [web.post(p, forget) for p in paths("/rooms/{roomId}/forget")]
    out += [
        web.post(p, target_action) for p in paths("/rooms/{roomId}/{action:invite|kick|ban|unban}")
    ]
    out += [web.get(p, joined_rooms) for p in paths("/joined_rooms")]
    out += [web.post(p, upgrade) for p in paths("/rooms/{roomId}/upgrade")]
    return out
