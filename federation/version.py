"""``GET /_matrix/federation/v1/version`` (spec: server-server "Server implementation"):
which implementation this is. No authentication."""

from __future__ import annotations

from homeserver.api.responses import json_response
from homeserver.http import web

NAME = "Concord"
VERSION = "0.1.0"  # as in pyproject.toml


async def version(request: web.Request) -> web.Response:
    return json_response({"server": {"name": NAME, "version": VERSION}})


def routes() -> list[web.RouteDef]:
    return [web.get("/_matrix/federation/v1/version", version)]
