"""``GET /.well-known/matrix/client``: how clients find this homeserver and its SFU.

spec: client-server "Well-known URIs" (``m.homeserver.base_url``; served with the CORS
headers every response carries). The SFU is announced as a MatrixRTC focus the way
MSC4143 clients look for one: ``org.matrix.msc4143.rtc_foci`` with our focus type
``im.concord.sfu`` (DESIGN.md "Voice, video and screen share").
"""

from __future__ import annotations

from typing import Any

from homeserver.api.responses import json_response
from homeserver.appkeys import CONFIG_KEY
from homeserver.http import web

RTC_FOCI = "org.matrix.msc4143.rtc_foci"
SFU_FOCUS_TYPE = "im.concord.sfu"


async def client_well_known(request: web.Request) -> web.Response:
    config = request.app[CONFIG_KEY]
    body: dict[str, Any] = {"m.homeserver": {"base_url": config.public_baseurl.rstrip("/")}}
    if config.concord.sfu_url:
        body[RTC_FOCI] = [{"type": SFU_FOCUS_TYPE, "url": config.concord.sfu_url}]
    return json_response(body)


def routes() -> list[web.RouteDef]:
    return [web.get("/.well-known/matrix/client", client_well_known)]
