"""Client-server endpoints that involve application services.

spec: client-server "Third-party Lookup" (``/thirdparty/*``, answered by the services
that list the protocol) and "Application service ping"
(``POST /_matrix/client/v1/appservice/{appserviceId}/ping``).
"""

from __future__ import annotations

import time
from typing import Any

from homeserver.api.auth import require_user
from homeserver.api.request_body import json_object
from homeserver.api.responses import json_response
from homeserver.errors import MatrixError
from homeserver.http import web

from .appkeys import CLIENT_KEY, QUERIES_KEY, REGISTRATIONS_KEY
from .client import AppServiceUnreachable
from .pusher.setup import PUSHER_KEY

__all__ = ["PING_TIMEOUT_KEY", "routes"]

CLIENT_VERSIONS = ("v3", "r0")
PING_TIMEOUT_S = 15.0
# Tests shorten the ping's deadline.
PING_TIMEOUT_KEY = web.AppKey("appservice_ping_timeout", float)


def _not_found(message: str) -> MatrixError:
    return MatrixError(404, "M_NOT_FOUND", message)


def _fields(request: web.Request, drop: tuple[str, ...]) -> dict[str, str]:
    """The query string minus authentication parameters: the lookup's fields."""
    return {k: v for k, v in request.query.items() if k not in drop}


_AUTH_PARAMS = ("access_token", "user_id", "device_id")


async def protocols(request: web.Request) -> web.Response:
    await require_user(request)
    return json_response(await request.config_dict[QUERIES_KEY].all_protocols())


async def protocol(request: web.Request) -> web.Response:
    await require_user(request)
    name = request.match_info["protocol"]
    meta = await request.config_dict[QUERIES_KEY].protocol_metadata(name)
    if meta is None:
        raise _not_found(f"Unknown protocol {name}")
    return json_response(meta)


async def _lookup(request: web.Request, kind: str, protocol_name: str | None) -> web.Response:
    await require_user(request)
    queries = request.config_dict[QUERIES_KEY]
    if protocol_name is not None and not queries.services_for(protocol_name):
        raise _not_found(f"Unknown protocol {protocol_name}")
    if protocol_name is None:
        param = "alias" if kind == "location" else "userid"
        value = request.query.get(param)
        if not value:
            raise MatrixError(400, "M_MISSING_PARAM", f"`{param}` is required")
        query = {param: value}
    else:
        query = _fields(request, _AUTH_PARAMS)
    results = await queries.lookup(kind, protocol_name, query)
    if not results:
        # spec: 404 when nothing was found.
        raise _not_found(f"No third-party {kind} found")
    return json_response(results)


async def location_by_protocol(request: web.Request) -> web.Response:
    return await _lookup(request, "location", request.match_info["protocol"])


async def user_by_protocol(request: web.Request) -> web.Response:
    return await _lookup(request, "user", request.match_info["protocol"])


async def location_by_alias(request: web.Request) -> web.Response:
    return await _lookup(request, "location", None)


async def user_by_id(request: web.Request) -> web.Response:
    return await _lookup(request, "user", None)


async def ping(request: web.Request) -> web.Response:
    """spec: ``POST /_matrix/client/v1/appservice/{appserviceId}/ping``: the homeserver
    pings the service's URL (``POST /_matrix/app/v1/ping``) and reports how it went."""
    requester = await require_user(request)
    service_id = request.match_info["appserviceId"]
    if requester.appservice_id is None or requester.appservice_id != service_id:
        raise MatrixError(
            403, "M_FORBIDDEN", "The access token does not belong to this application service"
        )
    body = await json_object(request)
    ping_body: dict[str, Any] = {}
    txn_id = body.get("transaction_id")
    if txn_id is not None:
        if not isinstance(txn_id, str):
            raise MatrixError(400, "M_BAD_JSON", "`transaction_id` must be a string")
        ping_body["transaction_id"] = txn_id
    reg = next(r for r in request.config_dict[REGISTRATIONS_KEY] if r.id == service_id)
    if reg.url is None:
        raise MatrixError(400, "M_URL_NOT_SET", "The application service has no URL")
    timeout = request.config_dict.get(PING_TIMEOUT_KEY) or PING_TIMEOUT_S
    started = time.monotonic()
    try:
        response = await request.config_dict[CLIENT_KEY].request(
            reg, "POST", "/_matrix/app/v1/ping", json_body=ping_body, timeout=timeout
        )
    except AppServiceUnreachable as exc:
        if exc.timed_out:
            raise MatrixError(
                504, "M_CONNECTION_TIMEOUT", "The application service did not answer in time"
            ) from None
        raise MatrixError(
            502, "M_CONNECTION_FAILED", f"Could not reach the application service: {exc}"
        ) from None
    duration_ms = int((time.monotonic() - started) * 1000)
    if not 200 <= response.status < 300:
        error = MatrixError(502, "M_BAD_STATUS", f"Ping returned status {response.status}")
        error.extra.update(status=response.status, body=response.body.decode("utf-8", "replace"))
        raise error
    pusher = request.config_dict.get(PUSHER_KEY)
    if pusher is not None:
        pusher.seen(service_id)  # it is up: pending transactions go now, not after backoff
    return json_response({"duration_ms": duration_ms})


def routes() -> list[web.RouteDef]:
    out: list[web.RouteDef] = []
    for version in CLIENT_VERSIONS:
        base = f"/_matrix/client/{version}/thirdparty"
        out += [
            web.get(f"{base}/protocols", protocols),
            web.get(f"{base}/protocol/{{protocol}}", protocol),
            web.get(f"{base}/location/{{protocol}}", location_by_protocol),
            web.get(f"{base}/user/{{protocol}}", user_by_protocol),
            web.get(f"{base}/location", location_by_alias),
            web.get(f"{base}/user", user_by_id),
        ]
    out.append(web.post("/_matrix/client/v1/appservice/{appserviceId}/ping", ping))
    return out
