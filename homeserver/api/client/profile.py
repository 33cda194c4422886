"""``/profile/{userId}`` and ``/profile/{userId}/{keyName}`` (GET, PUT, DELETE).

spec: client-server "Profiles" (v1.16: any namespaced key, ``DELETE``).
"""

from __future__ import annotations

from homeserver.api.responses import json_response
from homeserver.errors import MatrixError
from homeserver.http import web
from homeserver.profiles.handler import check_field_key

from ..auth import require_user
from ..request_body import json_object
from .profiles_common import user_handlers
from .rooms_common import paths


async def get_profile(request: web.Request) -> web.Response:
    profile = await user_handlers(request).profiles.get_profile(request.match_info["userId"])
    return json_response(profile)


async def get_field(request: web.Request) -> web.Response:
    key = request.match_info["keyName"]
    value = await user_handlers(request).profiles.get_field(request.match_info["userId"], key)
    return json_response({key: value})


async def put_field(request: web.Request) -> web.Response:
    requester = await require_user(request)
    key = check_field_key(request.match_info["keyName"])
    body = await json_object(request)
    if key not in body:
        raise MatrixError(400, "M_MISSING_PARAM", f"The body must hold `{key}`")
    await user_handlers(request).profiles.set_field(
        requester, request.match_info["userId"], key, body[key]
    )
    return json_response({})


async def delete_field(request: web.Request) -> web.Response:
    requester = await require_user(request)
    await user_handlers(request).profiles.delete_field(
        requester, request.match_info["userId"], request.match_info["keyName"]
    )
    return json_response({})


def routes() -> list[web.RouteDef]:
    out: list[web.RouteDef] = []
    for p in paths("/profile/{userId}"):
        out.append(web.get(p, get_profile))
    for p in paths("/profile/{userId}/{keyName}"):
        out += [web.get(p, get_field), web.put(p, put_field), web.delete(p, delete_field)]
    return out
