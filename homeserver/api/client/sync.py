"""``GET /sync`` and the filter endpoints.

spec: client-server "Syncing" (``GET /_matrix/client/v3/sync``) and "Filtering"
(``POST /user/{userId}/filter``, ``GET /user/{userId}/filter/{filterId}``).
"""

from __future__ import annotations

from homeserver.api.responses import json_response
from homeserver.appkeys import FILTERS_KEY, SYNC_HANDLER_KEY
from homeserver.errors import MatrixError
from homeserver.http import web
from homeserver.sync.handler import PRESENCE_STATES, SyncRequest
from homeserver.sync.tokens import StreamToken

from ..auth import require_user
from ..request_body import json_object

CLIENT_VERSIONS = ("v3", "r0")


def client_paths(suffix: str) -> list[str]:
    return [f"/_matrix/client/{version}{suffix}" for version in CLIENT_VERSIONS]


def _bool_param(request: web.Request, name: str) -> bool:
    value = request.query.get(name, "false").lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0", ""):
        return False
    raise MatrixError(400, "M_INVALID_PARAM", f"`{name}` must be true or false")


def _timeout_ms(request: web.Request) -> int:
    text = request.query.get("timeout") or "0"
    try:
        return max(0, int(text))
    except ValueError:
        raise MatrixError(400, "M_INVALID_PARAM", "`timeout` must be an integer") from None


def set_presence_param(value: str | None) -> str:
    if value is None or value == "":
        return "online"
    if value not in PRESENCE_STATES:
        raise MatrixError(
            400, "M_INVALID_PARAM", "`set_presence` must be online, offline or unavailable"
        )
    return value


async def sync(request: web.Request) -> web.Response:
    requester = await require_user(request)
    query = request.query
    since = StreamToken.parse(query["since"]) if query.get("since") else None
    sync_filter = await request.app[FILTERS_KEY].resolve(requester.user_id, query.get("filter"))
    req = SyncRequest(
        user_id=requester.user_id,
        device_id=requester.device_id,
        filter=sync_filter,
        since=since,
        full_state=_bool_param(request, "full_state"),
        timeout_ms=_timeout_ms(request),
        set_presence=set_presence_param(query.get("set_presence")),
    )
    result = await request.app[SYNC_HANDLER_KEY].sync(req)
    return json_response(result.to_json())


async def upload_filter(request: web.Request) -> web.Response:
    requester = await require_user(request)
    body = await json_object(request)
    filter_id = await request.app[FILTERS_KEY].upload(
        requester.user_id, request.match_info["userId"], body
    )
    return json_response({"filter_id": filter_id})


async def get_filter(request: web.Request) -> web.Response:
    requester = await require_user(request)
    definition = await request.app[FILTERS_KEY].get(
        requester.user_id, request.match_info["userId"], request.match_info["filterId"]
    )
    return json_response(definition)


def routes() -> list[web.RouteDef]:
    return [
        *(web.get(p, sync) for p in client_paths("/sync")),
        *(web.post(p, upload_filter) for p in client_paths("/user/{userId}/filter")),
        *(web.get(p, get_filter) for p in client_paths("/user/{userId}/filter/{filterId}")),
    ]
