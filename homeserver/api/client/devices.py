"""``/devices``, ``/devices/{deviceId}``, ``/delete_devices``.

spec: client-server "Device management".
"""

from __future__ import annotations

from homeserver.api.auth import require_user
from homeserver.api.request_body import json_object, opt_str
from homeserver.api.responses import json_response
from homeserver.errors import bad_json
from homeserver.http import web

from .accounts_common import accounts, paths
from .register import MAX_DISPLAY_NAME_LENGTH

MAX_DELETE_DEVICES = 1000


async def list_devices(request: web.Request) -> web.Response:
    requester = await require_user(request)
    return json_response({"devices": await accounts(request).devices.list_devices(requester)})


async def get_device(request: web.Request) -> web.Response:
    requester = await require_user(request)
    device = await accounts(request).devices.get(requester, request.match_info["device_id"])
    return json_response(device)


async def update_device(request: web.Request) -> web.Response:
    requester = await require_user(request)
    body = await json_object(request, allow_empty=True)
    name = opt_str(body, "display_name", max_length=MAX_DISPLAY_NAME_LENGTH)
    await accounts(request).devices.rename(requester, request.match_info["device_id"], name)
    return json_response({})


async def delete_device(request: web.Request) -> web.Response:
    requester = await require_user(request)
    body = await json_object(request, allow_empty=True)
    await accounts(request).devices.delete(
        requester, request.match_info["device_id"], body.get("auth")
    )
    return json_response({})


async def delete_devices(request: web.Request) -> web.Response:
    requester = await require_user(request)
    body = await json_object(request)
    device_ids = body.get("devices")
    if not isinstance(device_ids, list) or not all(isinstance(d, str) for d in device_ids):
        raise bad_json("`devices` must be a list of device ids")
    if len(device_ids) > MAX_DELETE_DEVICES:
        raise bad_json(f"At most {MAX_DELETE_DEVICES} devices at once")
    await accounts(request).devices.delete_many(requester, device_ids, body.get("auth"))
    return json_response({})


def routes() -> list[web.RouteDef]:
    routes: list[web.RouteDef] = []
    for path in paths("/devices"):
        routes.append(web.get(path, list_devices))
        routes.append(web.get(path + "/{device_id}", get_device))
        routes.append(web.put(path + "/{device_id}", update_device))
        routes.append(web.delete(path + "/{device_id}", delete_device))
    routes.extend(web.post(path, delete_devices) for path in paths("/delete_devices"))
    return routes
