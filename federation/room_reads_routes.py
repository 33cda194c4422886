"""HTTP routes of the read-only room endpoints of the federation API.

spec: server-server "Backfilling and retrieving missing events" (``GET /backfill``,
``POST /get_missing_events``), "Retrieving events" (``GET /state``, ``/state_ids``,
``/event``) and ``GET /event_auth``. Every request is signed by the asking server
(``federation.inbound_auth.authenticated``); the handlers are ``room_reads.RoomReads``.
"""

from __future__ import annotations

from typing import Any

from homeserver.api.request_body import json_object
from homeserver.api.responses import json_response
from homeserver.clock import Clock
from homeserver.errors import MatrixError, bad_json
from homeserver.http import web
from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.ids import parse_room_id
from homeserver.rooms.room_state import RoomStateCache
from homeserver.storage.store import Store

from .acl import ServerAcl
from .appkeys import SERVER_ACL_KEY
from .inbound_auth import authenticated
from .room_reads import MAX_EVENTS_PER_READ, RoomReads, transaction

ROOM_READS_KEY = web.AppKey("federation_room_reads", RoomReads)
SERVER_NAME_KEY = web.AppKey("federation_reads_server_name", str)

PREFIX = "/_matrix/federation/v1"
# get_missing_events: spec default for ``limit``.
DEFAULT_MISSING_LIMIT = 10
MAX_ID_LENGTH = 255


def _reads(request: web.Request) -> RoomReads:
    return request.app[ROOM_READS_KEY]


def _room_id(request: web.Request) -> str:
    value = request.match_info["roomId"]
    try:
        parse_room_id(value)
    except InvalidIdentifier as exc:
        raise MatrixError(400, "M_INVALID_PARAM", f"invalid room id: {exc}") from exc
    return value


def _event_id(value: str | None, name: str) -> str:
    if value is None or value == "":
        raise MatrixError(400, "M_MISSING_PARAM", f"`{name}` is required")
    if not value.startswith("$") or len(value) > MAX_ID_LENGTH:
        raise MatrixError(400, "M_INVALID_PARAM", f"invalid event id in `{name}`: {value!r}")
    return value


def _int(value: Any, name: str, *, minimum: int = 0) -> int:
    if isinstance(value, str):
        try:
            value = int(value, 10)
        except ValueError:
            raise MatrixError(400, "M_INVALID_PARAM", f"`{name}` must be an integer") from None
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise MatrixError(400, "M_INVALID_PARAM", f"`{name}` must be an integer >= {minimum}")
    return value


def _event_ids(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise bad_json(f"`{name}` must be a list of event ids")
    if len(value) > MAX_EVENTS_PER_READ:
        raise bad_json(f"`{name}` lists more than {MAX_EVENTS_PER_READ} events")
    return [_event_id(item, name) for item in value]


def _transaction(request: web.Request, pdus: list[Any]) -> web.Response:
    now = _reads(request).clock.time_ms()
    return json_response(transaction(request.app[SERVER_NAME_KEY], now, pdus))


@authenticated
async def backfill(request: web.Request, origin: str) -> web.Response:
    room_id = _room_id(request)
    from_ids = request.query.getall("v")
    if not from_ids:
        raise MatrixError(400, "M_MISSING_PARAM", "`v` is required")
    if len(from_ids) > MAX_EVENTS_PER_READ:
        raise MatrixError(400, "M_INVALID_PARAM", f"more than {MAX_EVENTS_PER_READ} `v`")
    from_ids = [_event_id(v, "v") for v in from_ids]
    limit_text = request.query.get("limit")
    if limit_text is None:
        raise MatrixError(400, "M_MISSING_PARAM", "`limit` is required")
    limit = _int(limit_text, "limit")
    pdus = await _reads(request).backfill(origin, room_id, from_ids, limit)
    return _transaction(request, pdus)


@authenticated
async def get_missing_events(request: web.Request, origin: str) -> web.Response:
    room_id = _room_id(request)
    body = await json_object(request)
    if "earliest_events" not in body or "latest_events" not in body:
        raise bad_json("`earliest_events` and `latest_events` are required")
    earliest = _event_ids(body["earliest_events"], "earliest_events")
    latest = _event_ids(body["latest_events"], "latest_events")
    limit = _int(body.get("limit", DEFAULT_MISSING_LIMIT), "limit")
    min_depth = _int(body.get("min_depth", 0), "min_depth")
    events = await _reads(request).missing_events(
        origin, room_id, earliest, latest, limit, min_depth
    )
    return json_response({"events": events})


@authenticated
async def state(request: web.Request, origin: str) -> web.Response:
    room_id = _room_id(request)
    event_id = _event_id(request.query.get("event_id"), "event_id")
    pdus, auth_chain = await _reads(request).state(origin, room_id, event_id)
    return json_response({"pdus": pdus, "auth_chain": auth_chain})


@authenticated
async def state_ids(request: web.Request, origin: str) -> web.Response:
    room_id = _room_id(request)
    event_id = _event_id(request.query.get("event_id"), "event_id")
    pdu_ids, chain = await _reads(request).state_ids(origin, room_id, event_id)
    return json_response({"pdu_ids": pdu_ids, "auth_chain_ids": sorted(chain)})


@authenticated
async def event(request: web.Request, origin: str) -> web.Response:
    event_id = _event_id(request.match_info["eventId"], "eventId")
    pdu = await _reads(request).event(origin, event_id)
    return _transaction(request, [pdu])


@authenticated
async def event_auth(request: web.Request, origin: str) -> web.Response:
    room_id = _room_id(request)
    event_id = _event_id(request.match_info["eventId"], "eventId")
    chain = await _reads(request).event_auth(origin, room_id, event_id)
    return json_response({"auth_chain": chain})


@authenticated
async def timestamp_to_event(request: web.Request, origin: str) -> web.Response:
    room_id = _room_id(request)
    direction = request.query.get("dir")
    if direction not in ("b", "f"):
        raise MatrixError(400, "M_INVALID_PARAM", "`dir` must be b or f")
    ts = _int(request.query.get("ts", ""), "ts") if request.query.get("ts") else None
    if ts is None:
        raise MatrixError(400, "M_MISSING_PARAM", "`ts` is required")
    answer = await _reads(request).closest_event(origin, room_id, ts, direction == "b")
    return json_response(answer)


def setup(
    app: web.Application,
    store: Store,
    rooms: RoomStateCache,
    clock: Clock,
    server_name: str,
) -> ServerAcl:
    """Serve the read endpoints; returns the ``ServerAcl`` (also ``app[SERVER_ACL_KEY]``)
    that the other federation endpoints check requests against."""
    acl = app[SERVER_ACL_KEY] = ServerAcl(rooms)
    app[ROOM_READS_KEY] = RoomReads(store, rooms, acl, clock)
    app[SERVER_NAME_KEY] = server_name
    app.add_routes(
        [
            web.get(PREFIX + "/backfill/{roomId}", backfill),
            web.post(PREFIX + "/get_missing_events/{roomId}", get_missing_events),
            web.get(PREFIX + "/state/{roomId}", state),
            web.get(PREFIX + "/state_ids/{roomId}", state_ids),
            web.get(PREFIX + "/event/{eventId}", event),
            web.get(PREFIX + "/event_auth/{roomId}/{eventId}", event_auth),
            web.get(PREFIX + "/timestamp_to_event/{roomId}", timestamp_to_event),
        ]
    )
    return acl
