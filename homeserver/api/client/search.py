"""``POST /search`` (spec: client-server "Server Side Search"; search.yaml).

``setup(app)`` runs in ``build_app`` after the room endpoints' ``setup``: the search
handler renders events and reads room state with their renderer and state reader.
"""

from __future__ import annotations

from homeserver.api.request_body import json_object
from homeserver.api.responses import json_response
from homeserver.appkeys import STORE_KEY
from homeserver.http import web
from homeserver.rooms.search import SearchHandler
from homeserver.rooms.search_request import parse_search_body

from ..auth import require_user
from .rooms_common import ROOM_HANDLERS_KEY, paths, viewer

SEARCH_KEY = web.AppKey("search", SearchHandler)


async def search(request: web.Request) -> web.Response:
    requester = await require_user(request)
    criteria = parse_search_body(await json_object(request))
    body = await request.config_dict[SEARCH_KEY].search(
        viewer(requester), criteria, request.query.get("next_batch") or None
    )
    return json_response(body)


def routes() -> list[web.RouteDef]:
    return [web.post(p, search) for p in paths("/search")]


def setup(app: web.Application) -> SearchHandler:
    rooms = app[ROOM_HANDLERS_KEY]
    handler = app[SEARCH_KEY] = SearchHandler(app[STORE_KEY], rooms.messages.renderer, rooms.state)
    app.add_routes(routes())
    return handler
