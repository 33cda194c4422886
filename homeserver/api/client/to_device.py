"""``PUT /sendToDevice/{eventType}/{txnId}`` (spec: client-server "Send-to-Device
messaging")."""

from __future__ import annotations

from homeserver.api.auth import require_user
from homeserver.api.request_body import json_object
from homeserver.api.responses import json_response
from homeserver.e2ee.to_device import parse_messages
from homeserver.http import web

from .e2ee_common import e2ee, paths


async def send_to_device(request: web.Request) -> web.Response:
    requester = await require_user(request)
    body = await json_object(request)
    messages = parse_messages(body)
    await e2ee(request).to_device.send(
        requester.user_id,
        requester.device_id,
        request.match_info["eventType"],
        request.match_info["txnId"],
        messages,
    )
    return json_response({})


def routes() -> list[web.RouteDef]:
    return [web.put(p, send_to_device) for p in paths("/sendToDevice/{eventType}/{txnId}")]
