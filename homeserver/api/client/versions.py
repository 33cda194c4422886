"""``GET /_matrix/client/versions``. spec: client-server "Supported versions"."""

from __future__ import annotations

from homeserver.api.responses import json_response
from homeserver.http import web

SPEC_VERSIONS = ("v1.11", "v1.12", "v1.13", "v1.14", "v1.15", "v1.16", "v1.17", "v1.18", "v1.19")

UNSTABLE_FEATURES = {
    # Busy presence (MSC3026), used for the "Busy" status.
    "org.matrix.msc3026.busy_presence": True,
}


async def versions(request: web.Request) -> web.Response:
    return json_response({"versions": list(SPEC_VERSIONS), "unstable_features": UNSTABLE_FEATURES})


def routes() -> list[web.RouteDef]:
    return [web.get("/_matrix/client/versions", versions)]
