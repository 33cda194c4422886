"""``GET /_matrix/client/v1/rooms/{roomId}/hierarchy``: a space's tree of rooms.

spec: client-server "Spaces". The walk is ``homeserver.rooms.hierarchy``; the
federation variant is served from the same object (``federation/space_routes.py``).
"""

from __future__ import annotations

from homeserver.api.responses import json_response
from homeserver.appkeys import CLOCK_KEY, CONFIG_KEY, STORE_KEY
from homeserver.errors import MatrixError
from homeserver.http import web
from homeserver.rooms.hierarchy import SpaceHierarchy
from homeserver.rooms.space_summary import SpaceSummaries
from homeserver.storage.space_reads import SpaceReads

from ..auth import require_user
from .rooms_common import ROOM_HANDLERS_KEY, room_id_param

HIERARCHY_KEY = web.AppKey("space_hierarchy", SpaceHierarchy)


def bool_param(request: web.Request, name: str) -> bool:
    value = request.query.get(name)
    if value is None or value == "false":
        return False
    if value == "true":
        return True
    raise MatrixError(400, "M_INVALID_PARAM", f"`{name}` must be true or false")


def _int_param(request: web.Request, name: str, minimum: int) -> int | None:
    text = request.query.get(name)
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        raise MatrixError(400, "M_INVALID_PARAM", f"`{name}` must be an integer") from None
    if value < minimum:
        raise MatrixError(400, "M_INVALID_PARAM", f"`{name}` must be at least {minimum}")
    return value


async def hierarchy(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    body = await request.config_dict[HIERARCHY_KEY].rooms(
        requester.user_id,
        room_id,
        suggested_only=bool_param(request, "suggested_only"),
        max_depth=_int_param(request, "max_depth", 0),
        limit=_int_param(request, "limit", 1),
        from_token=request.query.get("from"),
    )
    return json_response(body)


def setup(app: web.Application) -> SpaceHierarchy:
    """After ``rooms_setup.setup``; federation sets ``remote`` when it is on."""
    rooms = app[ROOM_HANDLERS_KEY]
    summaries = SpaceSummaries(
        rooms.directory.rooms, rooms.directory, rooms.access, SpaceReads(app[STORE_KEY].db)
    )
    built = app[HIERARCHY_KEY] = SpaceHierarchy(
        summaries, app[CLOCK_KEY], app[CONFIG_KEY].server_name
    )
    for version in ("v1", "unstable/org.matrix.msc2946"):
        app.add_routes(
            [web.get(f"/_matrix/client/{version}/rooms/{{roomId}}/hierarchy", hierarchy)]
        )
    return built
