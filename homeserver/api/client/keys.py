"""``/keys/upload``, ``/keys/query``, ``/keys/claim``, ``/keys/changes``,
``/keys/device_signing/upload`` and ``/keys/signatures/upload``.

spec: client-server "End-to-End Encryption" ("Key management API", "Cross-signing").
"""

from __future__ import annotations

from homeserver.api.auth import require_user
from homeserver.api.request_body import json_object
from homeserver.api.responses import json_response
from homeserver.errors import MatrixError
from homeserver.http import web

from .e2ee_common import WITH_UNSTABLE, e2ee, paths


async def upload_keys(request: web.Request) -> web.Response:
    requester = await require_user(request)
    body = await json_object(request)
    return json_response(await e2ee(request).keys.upload(requester, body))


async def query_keys(request: web.Request) -> web.Response:
    requester = await require_user(request)
    body = await json_object(request)
    return json_response(await e2ee(request).keys.query(requester, body))


async def claim_keys(request: web.Request) -> web.Response:
    requester = await require_user(request)
    body = await json_object(request)
    return json_response(await e2ee(request).keys.claim(requester, body))


async def key_changes(request: web.Request) -> web.Response:
    requester = await require_user(request)
    from_ = request.query.get("from")
    if from_ is None:
        raise MatrixError(400, "M_MISSING_PARAM", "`from` is required")
    to = request.query.get("to")
    return json_response(await e2ee(request).keys.changes(requester, from_, to))


async def upload_cross_signing_keys(request: web.Request) -> web.Response:
    requester = await require_user(request)
    body = await json_object(request)
    await e2ee(request).keys.upload_cross_signing(requester, body)
    return json_response({})


async def upload_signatures(request: web.Request) -> web.Response:
    requester = await require_user(request)
    body = await json_object(request)
    return json_response(await e2ee(request).keys.upload_signatures(requester, body))


def routes() -> list[web.RouteDef]:
    routes: list[web.RouteDef] = []
    for path in paths("/keys"):
        routes += [
            web.post(path + "/upload", upload_keys),
            web.post(path + "/query", query_keys),
            web.post(path + "/claim", claim_keys),
            web.get(path + "/changes", key_changes),
        ]
    for path in paths("/keys", WITH_UNSTABLE):
        routes += [
            web.post(path + "/device_signing/upload", upload_cross_signing_keys),
            web.post(path + "/signatures/upload", upload_signatures),
        ]
    return routes
