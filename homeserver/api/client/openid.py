"""``POST /user/{userId}/openid/request_token``. spec: client-server "OpenID"."""

from __future__ import annotations

from homeserver.api.responses import json_response
from homeserver.errors import MatrixError
from homeserver.http import web

from ..auth import require_user
from ..request_body import json_object
from .profiles_common import user_handlers
from .rooms_common import paths


async def request_token(request: web.Request) -> web.Response:
    requester = await require_user(request)
    if request.match_info["userId"] != requester.user_id:
        raise MatrixError(403, "M_FORBIDDEN", "You can only request OpenID tokens for yourself")
    await json_object(request, allow_empty=True)  # "an empty object, reserved"
    token = await user_handlers(request).openid.issue(requester.user_id)
    return json_response(token.to_json())


def routes() -> list[web.RouteDef]:
    return [web.post(p, request_token) for p in paths("/user/{userId}/openid/request_token")]
