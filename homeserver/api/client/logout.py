"""``POST /logout`` and ``POST /logout/all``. spec: client-server "Login" (logout)."""

from __future__ import annotations

from homeserver.api.auth import require_user
from homeserver.api.responses import json_response
from homeserver.http import web

from .accounts_common import accounts, paths


async def logout(request: web.Request) -> web.Response:
    requester = await require_user(request)
    await accounts(request).sessions.logout(requester)
    return json_response({})


async def logout_all(request: web.Request) -> web.Response:
    requester = await require_user(request)
    await accounts(request).sessions.logout_all(requester.user_id)
    return json_response({})


def routes() -> list[web.RouteDef]:
    return [
        *(web.post(path, logout) for path in paths("/logout")),
        *(web.post(path, logout_all) for path in paths("/logout/all")),
    ]
