"""Sync over a WebSocket: ``GET /_matrix/client/unstable/im.concord/sync/ws``.

Protocol (DESIGN.md "Read path"; all messages are JSON objects in text frames):

- Authentication as for any client request: ``Authorization: Bearer <token>`` or
  ``?access_token=<token>``. A missing or bad token is refused with the usual 401
  JSON body before the upgrade.
- The client sends ``{"type": "sync", "since": <token or null>, "filter": <filter
  id, inline filter JSON string, or filter object>, "full_state": <bool>,
  "set_presence": "online" | "unavailable" | "offline"}`` (all but ``type``
  optional, with ``GET /sync``'s meanings) once after connecting, and again whenever
  it wants other parameters; a new ``sync`` message replaces the previous one.
- The server answers each ``sync`` message at once with ``{"type": "sync", ...}``
  whose other fields are exactly the body ``GET /sync`` would return for those
  parameters (an initial sync, or the catch-up since ``since``, possibly empty).
  From then on it pushes a ``{"type": "sync", ...}`` delta whenever something
  changes for the user, each carrying everything after the previous message's
  ``next_batch``; nothing is sent while nothing changes.
- Errors: ``{"type": "error", "errcode": ..., "error": ...}`` for a bad message or
  parameter (the connection stays open and waits for a corrected ``sync``). When
  the access token stops being valid, an ``M_UNKNOWN_TOKEN`` error is sent and the
  connection is closed (code 4401).
- Keepalive: WebSocket ping/pong every 30 s (a peer that does not answer is dropped).
- Switching transports: the ``next_batch`` of the last message received is a
  ``since`` for ``GET /sync`` (and a ``/sync`` ``next_batch`` is a ``since`` here);
  nothing is missed and nothing is delivered twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from typing import Any

import orjson

from homeserver.appkeys import FILTERS_KEY, SYNC_HANDLER_KEY
from homeserver.errors import MatrixError
from homeserver.http import web
from homeserver.sync.filtering import SyncFilter, parse_filter
from homeserver.sync.handler import MAX_TIMEOUT_MS, SyncRequest
from homeserver.sync.tokens import StreamToken

from ..auth import AUTH_KEY, Requester, access_token, require_user
from .sync import set_presence_param

log = logging.getLogger(__name__)

PATH = "/_matrix/client/unstable/im.concord/sync/ws"
HEARTBEAT_S = 30.0
MAX_MESSAGE_BYTES = 256 * 1024
CLOSE_TOKEN_INVALID = 4401


class _Session:
    def __init__(
        self, request: web.Request, requester: Requester, token: str, ws: web.WebSocketResponse
    ) -> None:
        self.request = request
        self.requester = requester
        self.token = token
        self.ws = ws

    async def send(self, message: dict[str, Any]) -> None:
        # Shielded: replacing the parameters cancels the pusher, never half a frame.
        await asyncio.shield(self.ws.send_str(orjson.dumps(message).decode("utf-8")))

    async def send_error(self, exc: MatrixError) -> None:
        await self.send({"type": "error", **exc.to_json()})

    async def parse(self, text: str) -> SyncRequest:
        try:
            message = json.loads(text)
        except ValueError:
            raise MatrixError(400, "M_NOT_JSON", "Messages must be JSON") from None
        if not isinstance(message, dict):
            raise MatrixError(400, "M_BAD_JSON", "Messages must be JSON objects")
        if message.get("type") != "sync":
            raise MatrixError(
                400, "M_UNRECOGNIZED", f"Unknown message type {message.get('type')!r}"
            )
        since_text = message.get("since")
        if since_text is not None and not isinstance(since_text, str):
            raise MatrixError(400, "M_BAD_JSON", "`since` must be a string")
        full_state = message.get("full_state", False)
        if not isinstance(full_state, bool):
            raise MatrixError(400, "M_BAD_JSON", "`full_state` must be true or false")
        presence = message.get("set_presence")
        if presence is not None and not isinstance(presence, str):
            raise MatrixError(400, "M_BAD_JSON", "`set_presence` must be a string")
        return SyncRequest(
            user_id=self.requester.user_id,
            device_id=self.requester.device_id,
            filter=await self._filter(message.get("filter")),
            since=StreamToken.parse(since_text) if since_text else None,
            full_state=full_state,
            timeout_ms=0,
            set_presence=set_presence_param(presence),
        )

    async def _filter(self, raw: object) -> SyncFilter:
        if isinstance(raw, dict):
            return parse_filter(raw)
        if raw is not None and not isinstance(raw, str):
            raise MatrixError(
                400, "M_BAD_JSON", "`filter` must be an id, a JSON string or an object"
            )
        return await self.request.app[FILTERS_KEY].resolve(self.requester.user_id, raw)

    async def push(self, req: SyncRequest) -> None:
        """Answer ``req`` now, then push every non-empty delta after it."""
        try:
            await self._push(req)
        except asyncio.CancelledError:
            raise
        except MatrixError as exc:
            await self.send_error(exc)
        except Exception:
            log.exception("sync websocket failed")
            await self.send_error(MatrixError(500, "M_UNKNOWN", "Internal server error"))
            await self.ws.close(code=1011)

    async def _push(self, req: SyncRequest) -> None:
        handler = self.request.app[SYNC_HANDLER_KEY]
        authenticator = self.request.config_dict[AUTH_KEY]
        first = True
        while not self.ws.closed:
            result = await handler.sync(req)
            # Checked before each message and at least every long-poll period: a
            # logged-out token stops receiving (the authenticator caches valid tokens).
            try:
                await authenticator.authenticate(self.token)
            except MatrixError as exc:
                await self.send_error(exc)
                await self.ws.close(code=CLOSE_TOKEN_INVALID)
                return
            if first or not result.empty:
                await self.send({"type": "sync", **result.to_json()})
            first = False
            req = dataclasses.replace(
                req, since=result.next_batch, full_state=False, timeout_ms=MAX_TIMEOUT_MS
            )

    async def run(self) -> None:
        pusher: asyncio.Task[None] | None = None
        try:
            async for message in self.ws:
                if not isinstance(message.data, str):
                    continue  # binary frames carry nothing in this protocol
                try:
                    req = await self.parse(message.data)
                except MatrixError as exc:
                    await self.send_error(exc)
                    continue
                if pusher is not None:
                    await _stop(pusher)
                pusher = asyncio.create_task(self.push(req))
        finally:
            if pusher is not None:
                await _stop(pusher)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        try:
            await task
        except MatrixError as exc:
            log.info("sync websocket pusher stopped on %s", exc.errcode)
        except ConnectionError:
            pass


async def sync_ws(request: web.Request) -> web.StreamResponse:
    requester = await require_user(request)  # a 401 before the upgrade
    token = access_token(request)
    assert token is not None
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    await _Session(request, requester, token, ws).run()
    return ws


def routes() -> list[web.RouteDef]:
    return [web.get(PATH, sync_ws)]
