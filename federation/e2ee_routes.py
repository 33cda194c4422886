"""Federation endpoints of end-to-end encryption: devices and keys of local users.

spec: server-server "Device Management" (``GET /user/devices/{userId}``) and
"End-to-End Encryption" (``POST /user/keys/query``, ``POST /user/keys/claim``).
Requested users must be local; others are left out of the answer (``/user/devices``
of one answers 404 ``M_NOT_FOUND``). Other servers see the keys as any user but the
owner does: signatures their owner made, no user-signing key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeserver.api.request_body import json_object
from homeserver.api.responses import json_response
from homeserver.e2ee import validation as v
from homeserver.e2ee.device_list_sender import DeviceListSender
from homeserver.e2ee.keys import MAX_QUERIED_USERS, E2eKeys
from homeserver.errors import MatrixError, bad_json
from homeserver.http import web
from homeserver.protocol.ids import server_name_of

from .query_routes import PREFIX, Authenticate


@dataclass(frozen=True, slots=True)
class E2eeServices:
    server_name: str
    keys: E2eKeys
    device_lists: DeviceListSender


E2EE_SERVICES = web.AppKey("federation_e2ee_services", E2eeServices)


def _services(request: web.Request) -> E2eeServices:
    return request.config_dict[E2EE_SERVICES]


async def user_devices(request: web.Request, origin: str) -> web.Response:
    services = _services(request)
    user_id = request.match_info["userId"]
    v.check_user_id(user_id)
    if server_name_of(user_id) != services.server_name:
        raise MatrixError(404, "M_NOT_FOUND", "The user is not on this server")
    return json_response(await services.device_lists.user_devices(user_id))


async def user_keys_query(request: web.Request, origin: str) -> web.Response:
    services = _services(request)
    body = await json_object(request)
    wanted = body.get("device_keys")
    if not isinstance(wanted, dict):
        raise bad_json("`device_keys` must be an object")
    if len(wanted) > MAX_QUERIED_USERS:
        raise v.invalid(f"At most {MAX_QUERIED_USERS} users per query")
    local: dict[str, list[str] | None] = {}
    for user_id, device_ids in wanted.items():
        v.check_user_id(user_id)
        if not isinstance(device_ids, list) or not all(isinstance(d, str) for d in device_ids):
            raise bad_json(f"`device_keys.{user_id}` must be a list of device ids")
        if server_name_of(user_id) == services.server_name:
            local[user_id] = list(device_ids) or None
    return json_response(await services.keys.query_local(local, None))


async def user_keys_claim(request: web.Request, origin: str) -> web.Response:
    services = _services(request)
    body = await json_object(request)
    wanted = body.get("one_time_keys")
    if not isinstance(wanted, dict):
        raise bad_json("`one_time_keys` must be an object")
    local: list[tuple[str, str, str]] = []
    for user_id, by_device in wanted.items():
        v.check_user_id(user_id)
        if not isinstance(by_device, dict) or not all(
            isinstance(a, str) for a in by_device.values()
        ):
            raise bad_json(f"`one_time_keys.{user_id}` must map device ids to algorithms")
        if server_name_of(user_id) == services.server_name:
            local += [(user_id, device, algorithm) for device, algorithm in by_device.items()]
    if len(local) > MAX_QUERIED_USERS:
        raise v.invalid(f"At most {MAX_QUERIED_USERS} keys per claim")
    keys: dict[str, Any] = await services.keys.claim_local(local)
    return json_response({"one_time_keys": keys})


def routes(authenticated: Authenticate) -> list[web.RouteDef]:
    return [
        web.get(PREFIX + "/user/devices/{userId}", authenticated(user_devices)),
        web.post(PREFIX + "/user/keys/query", authenticated(user_keys_query)),
        web.post(PREFIX + "/user/keys/claim", authenticated(user_keys_claim)),
    ]
