"""Sending events and reading state: ``/send``, ``/state``, ``/redact``, ``/event``,
``/members``, ``/joined_members``.

spec: client-server "Sending events to a room", "Getting events for a room",
"Redactions".
"""

from __future__ import annotations

from homeserver.api.responses import json_response
from homeserver.errors import MatrixError
from homeserver.http import web
from homeserver.rooms.persist import TxnKey
from homeserver.rooms.state_reads import MEMBERSHIPS

from ..auth import Requester, require_user
from ..request_body import json_object, opt_str
from .rooms_common import event_id_param, handlers, paths, room_id_param, viewer

MAX_TS = 2**53 - 1  # the largest integer canonical JSON allows


def massaged_ts(request: web.Request, requester: Requester) -> int | None:
    """spec: application-service-api "Timestamp massaging": an application service may
    set ``origin_server_ts`` with the ``ts`` query parameter; others' ``ts`` is ignored."""
    text = request.query.get("ts")
    if text is None or requester.appservice_id is None:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 16:
        raise MatrixError(400, "M_INVALID_PARAM", "`ts` must be a timestamp in milliseconds")
    ts = int(text)
    if ts > MAX_TS:
        raise MatrixError(400, "M_INVALID_PARAM", "`ts` must be a timestamp in milliseconds")
    return ts


async def send(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    content = await json_object(request)
    event_id = await handlers(request).sending.send_message(
        requester.user_id,
        requester.device_id,
        room_id,
        request.match_info["eventType"],
        content,
        request.match_info["txnId"],
        ts=massaged_ts(request, requester),
    )
    return json_response({"event_id": event_id})


async def put_state(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    content = await json_object(request)
    event_id = await handlers(request).sending.put_state(
        requester.user_id,
        room_id,
        request.match_info["eventType"],
        request.match_info.get("stateKey", ""),
        content,
        ts=massaged_ts(request, requester),
    )
    return json_response({"event_id": event_id})


async def get_state_event(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    fmt = request.query.get("format", "content")
    if fmt not in ("content", "event"):
        raise MatrixError(400, "M_INVALID_PARAM", "`format` must be content or event")
    body = await handlers(request).state.state_event(
        viewer(requester),
        room_id,
        request.match_info["eventType"],
        request.match_info.get("stateKey", ""),
        as_event=fmt == "event",
    )
    return json_response(body)


async def get_state(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    events = await handlers(request).state.full_state(viewer(requester), room_id)
    return json_response(events)


async def redact(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    event_id = event_id_param(request)
    body = await json_object(request, allow_empty=True)
    content: dict[str, str] = {}
    reason = opt_str(body, "reason")
    if reason is not None:
        content["reason"] = reason
    txn = TxnKey(requester.user_id, requester.device_id, request.match_info["txnId"])
    redaction_id = await handlers(request).sending.redact(
        requester.user_id, room_id, event_id, content, txn
    )
    return json_response({"event_id": redaction_id})


async def get_event(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    event_id = event_id_param(request)
    body = await handlers(request).state.event(viewer(requester), room_id, event_id)
    return json_response(body)


def _membership_param(request: web.Request, name: str) -> str | None:
    value = request.query.get(name)
    if value is not None and value not in MEMBERSHIPS:
        choices = ", ".join(sorted(MEMBERSHIPS))
        raise MatrixError(400, "M_INVALID_PARAM", f"`{name}` must be one of {choices}")
    return value


async def members(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    chunk = await handlers(request).state.members(
        viewer(requester),
        room_id,
        at=request.query.get("at") or None,
        membership=_membership_param(request, "membership"),
        not_membership=_membership_param(request, "not_membership"),
    )
    return json_response({"chunk": chunk})


async def joined_members(request: web.Request) -> web.Response:
    requester = await require_user(request)
    room_id = room_id_param(request)
    joined = await handlers(request).state.joined_members(viewer(requester), room_id)
    return json_response({"joined": joined})


def routes() -> list[web.RouteDef]:
    out: list[web.RouteDef] = []
    out += [web.put(p, send) for p in paths("/rooms/{roomId}/send/{eventType}/{txnId}")]
    out += [web.get(p, get_state) for p in paths("/rooms/{roomId}/state")]
    # A missing state key and a trailing slash both mean the empty key.
    for suffix in (
        "/rooms/{roomId}/state/{eventType}",
        "/rooms/{roomId}/state/{eventType}/{stateKey:.*}",
    ):
        out += [web.get(p, get_state_event) for p in paths(suffix)]
        out += [web.put(p, put_state) for p in paths(suffix)]
    out += [web.put(p, redact) for p in paths("/rooms/{roomId}/redact/{eventId}/{txnId}")]
    out += [web.get(p, get_event) for p in paths("/rooms/{roomId}/event/{eventId}")]
    out += [web.get(p, members) for p in paths("/rooms/{roomId}/members")]
    out += [web.get(p, joined_members) for p in paths("/rooms/{roomId}/joined_members")]
    return out
