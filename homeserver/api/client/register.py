"""``POST /register``, ``GET /register/available``, registration token validity.

spec: client-server "Account registration", "Token-authenticated registration".
"""

from __future__ import annotations

from typing import Any

from homeserver.accounts.errors import invalid_param, missing_param, missing_token, unknown_token
from homeserver.accounts.login import APPLICATION_SERVICE
from homeserver.accounts.passwords import validate_new_password
from homeserver.accounts.registration import RegistrationRequest
from homeserver.api.auth import AUTH_KEY, access_token
from homeserver.api.request_body import json_object, opt_bool, opt_str
from homeserver.api.responses import json_response
from homeserver.errors import MatrixError, bad_json
from homeserver.http import web

from .accounts_common import accounts, paths

MAX_DEVICE_ID_LENGTH = 255
MAX_DISPLAY_NAME_LENGTH = 256


def device_id_param(body: dict[str, Any]) -> str | None:
    device_id = opt_str(body, "device_id", max_length=MAX_DEVICE_ID_LENGTH)
    if device_id == "":
        raise invalid_param("`device_id` must not be empty")
    return device_id


async def register(request: web.Request) -> web.Response:
    kind = request.query.get("kind", "user")
    if kind == "guest":
        raise MatrixError(403, "M_GUEST_ACCESS_FORBIDDEN", "Guest access is not allowed")
    if kind != "user":
        raise invalid_param("`kind` must be `user` or `guest`")
    body = await json_object(request)
    username = body.get("username")
    if username is not None and not isinstance(username, str):
        raise bad_json("`username` must be a string")
    password = body.get("password")
    if password is not None:
        password = validate_new_password(password)
    service = None
    if body.get("type") == APPLICATION_SERVICE:
        # spec: application-service-api "Server admin style permissions".
        token = access_token(request)
        if token is None:
            raise missing_token()
        service = request.config_dict[AUTH_KEY].appservices.by_token(token)
        if service is None:
            raise unknown_token()
    registration_request = RegistrationRequest(
        username=username or None,
        password=password,
        device_id=device_id_param(body),
        initial_device_display_name=opt_str(
            body, "initial_device_display_name", max_length=MAX_DISPLAY_NAME_LENGTH
        ),
        inhibit_login=opt_bool(body, "inhibit_login"),
        refresh_token=opt_bool(body, "refresh_token"),
        auth=body.get("auth"),
    )
    registration = accounts(request).registration
    if service is not None:
        result = await registration.register_appservice(service, registration_request)
    else:
        result = await registration.register(registration_request)
    return json_response(result)


async def available(request: web.Request) -> web.Response:
    username = request.query.get("username")
    if not username:
        raise missing_param("`username` is required")
    await accounts(request).registration.check_available(username)
    return json_response({"available": True})


async def token_validity(request: web.Request) -> web.Response:
    registration = accounts(request).registration
    if not registration.token_registration_enabled:
        raise MatrixError(403, "M_FORBIDDEN", "Registration tokens are not enabled")
    token = request.query.get("token")
    if token is None:
        raise missing_param("`token` is required")
    return json_response({"valid": registration.token_is_valid(token)})


def routes() -> list[web.RouteDef]:
    return [
        *(web.post(path, register) for path in paths("/register")),
        *(web.get(path, available) for path in paths("/register/available")),
        web.get("/_matrix/client/v1/register/m.login.registration_token/validity", token_validity),
    ]
