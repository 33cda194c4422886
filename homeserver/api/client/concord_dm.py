"""``POST /_matrix/client/unstable/im.concord/dm`` ``{"user_id": ...}`` → ``{"room_id"}``:
"message this user" opens the pair's one DM room (``homeserver.rooms.direct_messages``).

The same room could be made with ``createRoom`` (``is_direct``) and an ``m.direct``
account-data write; this endpoint adds finding the existing one from either side.
"""

from __future__ import annotations

from homeserver.api.responses import json_response
from homeserver.appkeys import BUS_KEY, CONFIG_KEY, NOTIFIER_KEY, ROOMS_KEY, STORE_KEY
from homeserver.errors import bad_json
from homeserver.http import web
from homeserver.rooms.direct_messages import DirectMessages

from ..auth import require_user
from ..request_body import json_object
from .rooms_common import ROOM_HANDLERS_KEY

PATH = "/_matrix/client/unstable/im.concord/dm"
DM_KEY = web.AppKey("direct_messages", DirectMessages)


async def open_dm(request: web.Request) -> web.Response:
    requester = await require_user(request)
    body = await json_object(request)
    other = body.get("user_id")
    if not isinstance(other, str):
        raise bad_json("`user_id` must be a string")
    room_id = await request.config_dict[DM_KEY].open(requester.user_id, other)
    return json_response({"room_id": room_id})


def setup(app: web.Application) -> DirectMessages:
    """After ``rooms_setup.setup`` and ``sync_setup.setup``."""
    rooms = app[ROOM_HANDLERS_KEY]
    built = app[DM_KEY] = DirectMessages(
        app[STORE_KEY],
        app[ROOMS_KEY],
        rooms.creator,
        rooms.membership,
        app[NOTIFIER_KEY].on_account_data,
        app[CONFIG_KEY].server_name,
    )
    app[BUS_KEY].subscribe(built.on_event)

    async def stop(app: web.Application) -> None:
        await built.stop()

    app.on_shutdown.append(stop)
    app.add_routes([web.post(PATH, open_dm)])
    return built
