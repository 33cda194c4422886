"""``/account/whoami``, ``/account/password``, ``/account/deactivate``.

spec: client-server "Current account information", "Password management",
"Account deactivation".
"""

from __future__ import annotations

from homeserver.accounts.errors import missing_param
from homeserver.accounts.passwords import validate_new_password
from homeserver.api.auth import require_user
from homeserver.api.request_body import json_object, opt_bool
from homeserver.api.responses import json_response
from homeserver.http import web

from .accounts_common import accounts, paths


async def whoami(request: web.Request) -> web.Response:
    requester = await require_user(request)
    body: dict[str, object] = {"user_id": requester.user_id, "is_guest": False}
    if requester.device_id:  # an application service acting without a device has none
        body["device_id"] = requester.device_id
    return json_response(body)


async def change_password(request: web.Request) -> web.Response:
    requester = await require_user(request)
    body = await json_object(request)
    if body.get("new_password") is None:
        raise missing_param("`new_password` is required")
    new_password = validate_new_password(body["new_password"])
    await accounts(request).account.change_password(
        requester,
        new_password,
        logout_devices=opt_bool(body, "logout_devices", True),
        auth=body.get("auth"),
    )
    return json_response({})


async def deactivate(request: web.Request) -> web.Response:
    requester = await require_user(request)
    body = await json_object(request, allow_empty=True)
    opt_bool(body, "erase")  # validated; erasure of content is not implemented yet
    await accounts(request).account.deactivate(requester, body.get("auth"))
    # We never bind third-party ids to identity servers, so there is nothing to unbind.
    return json_response({"id_server_unbind_result": "no-support"})


def routes() -> list[web.RouteDef]:
    return [
        *(web.get(path, whoami) for path in paths("/account/whoami")),
        *(web.post(path, change_password) for path in paths("/account/password")),
        *(web.post(path, deactivate) for path in paths("/account/deactivate")),
    ]
