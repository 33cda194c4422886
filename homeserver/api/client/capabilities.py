"""``GET /capabilities``. spec: client-server "Capabilities negotiation".

What a user of this server may change and which room versions it runs. Profile fields
are all user-editable (``m.profile_fields`` without lists); the deprecated
``m.set_displayname`` / ``m.set_avatar_url`` say the same for older clients.
"""

from __future__ import annotations

from typing import Any

from homeserver.api.responses import json_response
from homeserver.http import web
from homeserver.protocol.room_versions import DEFAULT_ROOM_VERSION, KNOWN_ROOM_VERSIONS

from ..auth import require_user
from .rooms_common import paths


def capabilities() -> dict[str, Any]:
    return {
        "m.change_password": {"enabled": True},
        "m.room_versions": {
            "default": DEFAULT_ROOM_VERSION.identifier,
            "available": {
                version.identifier: "stable" if version.stable else "unstable"
                for version in KNOWN_ROOM_VERSIONS.values()
            },
        },
        "m.set_displayname": {"enabled": True},
        "m.set_avatar_url": {"enabled": True},
        "m.profile_fields": {"enabled": True},
        "m.3pid_changes": {"enabled": False},
        "m.get_login_token": {"enabled": False},
        "m.forget_forced_upon_leave": {"enabled": False},
    }


async def get_capabilities(request: web.Request) -> web.Response:
    await require_user(request)
    return json_response({"capabilities": capabilities()})


def routes() -> list[web.RouteDef]:
    return [web.get(p, get_capabilities) for p in paths("/capabilities")]
