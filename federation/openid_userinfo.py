"""``GET /_matrix/federation/v1/openid/userinfo``: who an OpenID token belongs to.

spec: server-server "OpenID". Called by third parties (our SFU, widgets, other
servers) with the token a user got from ``/openid/request_token``; unauthenticated by
design — the token is the credential. Unknown or expired tokens get 401
``M_UNKNOWN_TOKEN``.
"""

from __future__ import annotations

from homeserver.accounts.openid import OpenIdTokens
from homeserver.api.responses import json_response
from homeserver.errors import MatrixError
from homeserver.http import web

OPENID_TOKENS = web.AppKey("openid_tokens", OpenIdTokens)


async def userinfo(request: web.Request) -> web.Response:
    token = request.query.get("access_token") or ""
    user_id = await request.app[OPENID_TOKENS].user_for(token)
    if user_id is None:
        raise MatrixError(401, "M_UNKNOWN_TOKEN", "Access token unknown or expired")
    return json_response({"sub": user_id})


def setup(app: web.Application, tokens: OpenIdTokens) -> None:
    app[OPENID_TOKENS] = tokens
    app.add_routes([web.get("/_matrix/federation/v1/openid/userinfo", userinfo)])
