"""``POST /user_directory/search``. spec: client-server "User Directory"."""

from __future__ import annotations

from homeserver.api.responses import json_response
from homeserver.errors import MatrixError, bad_json
from homeserver.http import web
from homeserver.profiles.directory import DEFAULT_LIMIT, MAX_LIMIT

from ..auth import require_user
from ..request_body import json_object
from .profiles_common import user_handlers
from .rooms_common import paths


async def search(request: web.Request) -> web.Response:
    requester = await require_user(request)
    body = await json_object(request)
    term = body.get("search_term")
    if term is None:
        raise MatrixError(400, "M_MISSING_PARAM", "`search_term` is required")
    if not isinstance(term, str):
        raise bad_json("`search_term` must be a string")
    limit = body.get("limit", DEFAULT_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise bad_json("`limit` must be a non-negative integer")
    found = await user_handlers(request).directory.search(
        requester.user_id, term, min(limit, MAX_LIMIT)
    )
    return json_response(found.to_json())


def routes() -> list[web.RouteDef]:
    return [web.post(p, search) for p in paths("/user_directory/search")]
