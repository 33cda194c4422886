"""``/_matrix/client/unstable/im.concord/guilds/...``: the Concord actions that span
several rooms (issue 9): create or delete a guild, create, move or delete a channel
or a category.

Thin routes: validate the body at the edge (400 ``M_BAD_JSON`` / ``M_INVALID_PARAM``),
call ``homeserver.steward``, render. Each action is made of ordinary Matrix requests a
client could also make; permissions are Concord's (403 ``M_FORBIDDEN``).
"""

from __future__ import annotations

from typing import Any

from homeserver.api.responses import json_response
from homeserver.chat.schemas import is_valid_id
from homeserver.errors import MatrixError, bad_json
from homeserver.http import web
from homeserver.protocol.profile_fields import is_mxc_uri
from homeserver.steward.guilds import GuildActions, NewGuild
from homeserver.steward.layout import UNSET, ChannelMove, LayoutActions

from ..auth import require_user
from ..request_body import json_object, opt_bool, opt_str
from .rooms_common import room_id_param

PREFIX = "/_matrix/client/unstable/im.concord"
GUILD_ACTIONS_KEY = web.AppKey("concord_guild_actions", GuildActions)
LAYOUT_ACTIONS_KEY = web.AppKey("concord_layout_actions", LayoutActions)

NAME_MAX = 100  # as role and category names (homeserver.chat.schemas)
TOPIC_MAX = 1024


def _opt_name(body: dict[str, Any]) -> str | None:
    value = opt_str(body, "name", max_length=NAME_MAX)
    if value is not None and not value.strip():
        raise MatrixError(400, "M_INVALID_PARAM", "`name` must not be blank")
    return value


def _name(body: dict[str, Any]) -> str:
    value = _opt_name(body)
    if value is None:
        raise bad_json("`name` is required")
    return value


def _category(body: dict[str, Any]) -> Any:
    """UNSET when absent, None for "no category", else a category id."""
    if "category" not in body:
        return UNSET
    value = body["category"]
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_json("`category` must be a category id or null")
    if not is_valid_id(value):
        raise MatrixError(400, "M_INVALID_PARAM", "`category` is not a valid category id")
    return value


def _category_id(request: web.Request) -> str:
    value = request.match_info["categoryId"]
    if not is_valid_id(value):
        raise MatrixError(400, "M_INVALID_PARAM", "invalid category id")
    return value


def _guild_actions(request: web.Request) -> GuildActions:
    return request.config_dict[GUILD_ACTIONS_KEY]


def _layout(request: web.Request) -> LayoutActions:
    return request.config_dict[LAYOUT_ACTIONS_KEY]


async def create_guild(request: web.Request) -> web.Response:
    requester = await require_user(request)
    body = await json_object(request)
    name = _name(body)
    avatar = opt_str(body, "avatar_url", max_length=255)
    if avatar is not None and not is_mxc_uri(avatar):
        raise MatrixError(400, "M_INVALID_PARAM", "`avatar_url` must be an mxc:// URI")
    new = NewGuild(
        name=name,
        topic=opt_str(body, "topic", max_length=TOPIC_MAX),
        avatar_url=avatar,
        public=opt_bool(body, "public"),
    )
    return json_response(await _guild_actions(request).create(requester.user_id, new))


async def delete_guild(request: web.Request) -> web.Response:
    requester = await require_user(request)
    await _guild_actions(request).delete(requester.user_id, room_id_param(request))
    return json_response({})


async def create_channel(request: web.Request) -> web.Response:
    requester = await require_user(request)
    guild_id = room_id_param(request)
    body = await json_object(request)
    name = _name(body)
    kind = body.get("kind", "text")
    if kind not in ("text", "voice"):
        raise MatrixError(400, "M_INVALID_PARAM", "`kind` must be text or voice")
    category = _category(body)
    reply = await _layout(request).create_channel(
        requester.user_id,
        guild_id,
        name=name,
        voice=kind == "voice",
        category=None if category is UNSET else category,
        topic=opt_str(body, "topic", max_length=TOPIC_MAX),
    )
    return json_response(reply)


async def move_channel(request: web.Request) -> web.Response:
    requester = await require_user(request)
    guild_id = room_id_param(request)
    channel_id = room_id_param(request, "channelId")
    body = await json_object(request)
    move = ChannelMove(
        category=_category(body),
        order=opt_str(body, "order", max_length=50),
        name=_opt_name(body),
    )
    await _layout(request).move_channel(requester.user_id, guild_id, channel_id, move)
    return json_response({})


async def delete_channel(request: web.Request) -> web.Response:
    requester = await require_user(request)
    guild_id = room_id_param(request)
    channel_id = room_id_param(request, "channelId")
    await _layout(request).delete_channel(requester.user_id, guild_id, channel_id)
    return json_response({})


async def create_category(request: web.Request) -> web.Response:
    requester = await require_user(request)
    guild_id = room_id_param(request)
    body = await json_object(request)
    name = _name(body)
    return json_response(await _layout(request).create_category(requester.user_id, guild_id, name))


async def update_category(request: web.Request) -> web.Response:
    requester = await require_user(request)
    guild_id = room_id_param(request)
    category_id = _category_id(request)
    body = await json_object(request)
    order = body.get("order")
    if order is not None and (isinstance(order, bool) or not isinstance(order, int)):
        raise bad_json("`order` must be an integer")
    await _layout(request).update_category(
        requester.user_id,
        guild_id,
        category_id,
        name=_opt_name(body),
        order=order,
    )
    return json_response({})


async def delete_category(request: web.Request) -> web.Response:
    requester = await require_user(request)
    guild_id = room_id_param(request)
    await _layout(request).delete_category(requester.user_id, guild_id, _category_id(request))
    return json_response({})


def routes() -> list[web.RouteDef]:
    guild = f"{PREFIX}/guilds/{{roomId}}"
    return [
        web.post(f"{PREFIX}/guilds", create_guild),
        web.delete(guild, delete_guild),
        web.post(f"{guild}/channels", create_channel),
        web.put(f"{guild}/channels/{{channelId}}", move_channel),
        web.delete(f"{guild}/channels/{{channelId}}", delete_channel),
        web.post(f"{guild}/categories", create_category),
        web.put(f"{guild}/categories/{{categoryId}}", update_category),
        web.delete(f"{guild}/categories/{{categoryId}}", delete_category),
    ]
