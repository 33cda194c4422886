"""``POST /refresh``. spec: client-server "Refreshing access tokens"."""

from __future__ import annotations

from homeserver.accounts.errors import missing_param
from homeserver.api.request_body import json_object, opt_str
from homeserver.api.responses import json_response
from homeserver.http import web

from .accounts_common import accounts, paths


async def refresh(request: web.Request) -> web.Response:
    body = await json_object(request)
    token = opt_str(body, "refresh_token")
    if not token:
        raise missing_param("`refresh_token` is required")
    issued = await accounts(request).sessions.refresh(token)
    result = issued.to_json()
    # /refresh answers with the tokens only.
    del result["user_id"], result["device_id"]
    return json_response(result)


def routes() -> list[web.RouteDef]:
    return [web.post(path, refresh) for path in paths("/refresh", ("v3", "v1"))]
