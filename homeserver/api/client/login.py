"""``GET``/``POST /login``. spec: client-server "Login" (legacy API)."""

from __future__ import annotations

from homeserver.accounts.login import APPLICATION_SERVICE, DeviceRequest
from homeserver.api.auth import access_token
from homeserver.api.request_body import json_object, opt_bool, opt_str
from homeserver.api.responses import json_response
from homeserver.http import web

from .accounts_common import accounts, paths
from .register import MAX_DISPLAY_NAME_LENGTH, device_id_param


async def login_flows(request: web.Request) -> web.Response:
    return json_response({"flows": accounts(request).login.flows()})


async def login(request: web.Request) -> web.Response:
    body = await json_object(request)
    device = DeviceRequest(
        device_id=device_id_param(body),
        initial_device_display_name=opt_str(
            body, "initial_device_display_name", max_length=MAX_DISPLAY_NAME_LENGTH
        ),
        refresh_token=opt_bool(body, "refresh_token"),
    )
    as_token = access_token(request) if body.get("type") == APPLICATION_SERVICE else None
    return json_response(await accounts(request).login.login(body, device, as_token))


def routes() -> list[web.RouteDef]:
    return [
        *(web.get(path, login_flows) for path in paths("/login")),
        *(web.post(path, login) for path in paths("/login")),
    ]
