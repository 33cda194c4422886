"""The application-service routes of a server with no service registered: what they
answer then, without loading the services' machinery (client, queries, pusher) into a
process that will never use it.

spec: client-server "Third-party networks" (no service lists a protocol: no protocols,
nothing found) and "POST /_matrix/client/v1/appservice/{appserviceId}/ping" (no token
belongs to a service: 403).
"""

from __future__ import annotations

from homeserver.api.auth import require_user
from homeserver.api.responses import json_response
from homeserver.errors import MatrixError
from homeserver.http import web


async def protocols(request: web.Request) -> web.Response:
    await require_user(request)
    return json_response({})


async def nothing_found(request: web.Request) -> web.Response:
    await require_user(request)
    raise MatrixError(404, "M_NOT_FOUND", "No application service answers this lookup")


async def ping(request: web.Request) -> web.Response:
    await require_user(request)
    raise MatrixError(
        403, "M_FORBIDDEN", "The access token does not belong to this application service"
    )


def setup(app: web.Application) -> None:
    out: list[web.RouteDef] = []
    for base in ("/_matrix/client/v3/thirdparty", "/_matrix/client/r0/thirdparty"):
        out.append(web.get(f"{base}/protocols", protocols))
        for path in (
            "/protocol/{protocol}",
            "/location/{protocol}",
            "/user/{protocol}",
            "/location",
            "/user",
        ):
            out.append(web.get(base + path, nothing_found))
    out.append(web.post("/_matrix/client/v1/appservice/{appserviceId}/ping", ping))
    app.add_routes(out)
