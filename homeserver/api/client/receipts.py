"""Receipts and read markers.

spec: client-server "Receipts" (``POST /rooms/{roomId}/receipt/{receiptType}/{eventId}``)
and "Fully read markers" (``POST /rooms/{roomId}/read_markers``).
"""

from __future__ import annotations

from homeserver.ephemeral.receipts import (
    FULLY_READ,
    READ,
    READ_PRIVATE,
    ReceiptsHandler,
    check_thread_id,
)
from homeserver.errors import MatrixError, bad_json
from homeserver.http import web

from ..auth import require_user
from ..request_body import json_object
from ..responses import json_response
from .rooms_common import handlers, paths, room_id_param

RECEIPTS_KEY = web.AppKey("receipts", ReceiptsHandler)


async def _require_joined(request: web.Request, room_id: str, user_id: str) -> None:
    membership = await handlers(request).access.current_membership(room_id, user_id)
    if membership != "join":
        raise MatrixError(403, "M_FORBIDDEN", "You are not in this room")


async def post_receipt(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    receipt_type = request.match_info["receiptType"]
    event_id = request.match_info["eventId"]
    body = await json_object(request, allow_empty=True)
    thread_id = check_thread_id(body.get("thread_id"))
    await _require_joined(request, room_id, requester.user_id)
    receipts = request.app[RECEIPTS_KEY]
    await receipts.set_receipt(requester.user_id, room_id, receipt_type, event_id, thread_id)
    return json_response({})


async def post_read_markers(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    body = await json_object(request, allow_empty=True)
    wanted: list[tuple[str, str]] = []
    for key in (FULLY_READ, READ, READ_PRIVATE):
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.startswith("$"):
            raise bad_json(f"`{key}` must be an event id")
        wanted.append((key, value))
    await _require_joined(request, room_id, requester.user_id)
    receipts = request.app[RECEIPTS_KEY]
    for receipt_type, event_id in wanted:
        await receipts.set_receipt(requester.user_id, room_id, receipt_type, event_id, "")
    return json_response({})


def routes() -> list[web.RouteDef]:
    return [
        *(
            web.post(p, post_receipt)
            for p in paths("/rooms/{roomId}/receipt/{receiptType}/{eventId}")
        ),
        *(web.post(p, post_read_markers) for p in paths("/rooms/{roomId}/read_markers")),
    ]
