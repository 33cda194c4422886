"""The body of ``POST /token``, validated at the edge.

    {"room_id": "!voice:example.org",
     "device_id": "ABCDEF",
     "openid_token": {"access_token": "...", "token_type": "Bearer",
                      "matrix_server_name": "example.org", "expires_in": 3600}}

``openid_token`` is what the client got from its homeserver (spec: client-server
"OpenID", ``POST /user/{userId}/openid/request_token``), passed on unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sfu.access import AccessDenied

from .ids import MAX_ID_LENGTH, is_room_id, is_server_name

MAX_TOKEN_LENGTH = 1024


@dataclass(frozen=True)
class TokenRequest:
    room_id: str
    device_id: str
    access_token: str
    server_name: str


def _missing(key: str) -> AccessDenied:
    return AccessDenied(400, "M_MISSING_PARAM", f"Missing `{key}`")


def _string(data: dict[str, Any], key: str, where: str = "") -> str:
    if key not in data:
        raise _missing(where + key)
    value = data[key]
    if not isinstance(value, str) or not value:
        raise AccessDenied(400, "M_BAD_JSON", f"`{where}{key}` must be a non-empty string")
    return value


def parse_token_request(body: Any) -> TokenRequest:
    if not isinstance(body, dict):
        raise AccessDenied(400, "M_BAD_JSON", "The body must be a JSON object")
    room_id = _string(body, "room_id")
    if not is_room_id(room_id):
        raise AccessDenied(400, "M_INVALID_PARAM", f"`room_id` {room_id!r} is not a room id")
    device_id = _string(body, "device_id")
    if len(device_id) > MAX_ID_LENGTH or not device_id.isprintable():
        raise AccessDenied(400, "M_INVALID_PARAM", "`device_id` is too long or not printable")
    if "openid_token" not in body:
        raise _missing("openid_token")
    openid = body["openid_token"]
    if not isinstance(openid, dict):
        raise AccessDenied(400, "M_BAD_JSON", "`openid_token` must be an object")
    access_token = _string(openid, "access_token", "openid_token.")
    if len(access_token) > MAX_TOKEN_LENGTH:
        raise AccessDenied(400, "M_INVALID_PARAM", "`openid_token.access_token` is too long")
    server_name = _string(openid, "matrix_server_name", "openid_token.")
    if not is_server_name(server_name):
        raise AccessDenied(
            400,
            "M_INVALID_PARAM",
            f"`openid_token.matrix_server_name` {server_name!r} is not a server name",
        )
    return TokenRequest(room_id, device_id, access_token, server_name)
