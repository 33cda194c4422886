"""The SFU's HTTP application (its own process: ``python -m sfu run``).

    POST /token                              OpenID token -> short-lived SFU JWT
    GET  /ws                                 signaling WebSocket (the media half)
    GET  /health, GET /metrics
    PUT  /_matrix/app/v1/transactions/{txn}  what the homeserver pushes to us
    POST /_matrix/app/v1/ping                the homeserver checking it can reach us

Routes are thin: parse, call one handler of ``sfu/auth`` or the voice service, render.
``AccessDenied`` becomes the Matrix error JSON; anything else a 500 ``M_UNKNOWN``.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import aiohttp
from aiohttp import web

from sfu.access import Access, AccessDenied, CallRoster
from sfu.auth.address_guard import PublicOnlyResolver
from sfu.auth.clock import Clock, SystemClock
from sfu.auth.discovery import ServerResolver
from sfu.auth.homeserver import HomeserverClient, HomeserverError
from sfu.auth.homeserver_access import HomeserverAccess
from sfu.auth.openid import OpenIdVerifier
from sfu.auth.roster import CallMembers
from sfu.auth.token_request import parse_token_request
from sfu.auth.tokens import TokenIssuer
from sfu.auth.transactions import Transactions, check_hs_token
from sfu.config import SfuConfig
from sfu.metrics import CONTENT_TYPE, exposition

log = logging.getLogger("sfu")

TOKEN_BODY_LIMIT = 64 * 1024
# A transaction holds up to a few hundred events of up to 64 KiB each.
MAX_BODY = 32 * 1024 * 1024
# Clearing a previous run's presence waits for the homeserver (``make run`` starts both).
CLEAR_ATTEMPTS = 60
CLEAR_RETRY_S = 2.0


class Voice(Protocol):
    """The media half (``sfu.media.VoiceService``), as this app uses it."""

    async def websocket(self, request: web.Request) -> web.StreamResponse: ...

    def remove_user(self, room_id: str, user_id: str, reason: str) -> Any: ...

    def stream_count(self) -> int: ...

    def close(self) -> Any: ...


VoiceFactory = Callable[[Access, CallRoster, SfuConfig], Voice]


def media_voice(access: Access, roster: CallRoster, config: SfuConfig) -> Voice:
    from sfu.media import MediaSettings, VoiceService

    settings = MediaSettings(drop_timeout_s=config.drop_timeout_s, ice_host=config.ice_host)
    voice: Voice = VoiceService(access, roster, settings)
    return voice


class Services:
    """Everything one running SFU holds; built when the app starts."""

    def __init__(self, config: SfuConfig, clock: Clock, voice_factory: VoiceFactory) -> None:
        self.config = config
        self.session = aiohttp.ClientSession()
        self.homeserver = HomeserverClient(
            self.session, config.homeserver_url, config.app_service.as_token
        )
        # Our own users' tokens are checked with our homeserver at the address we know;
        # its server name may not lead there (``localhost:8008`` of a first run).
        servers = {config.server_name: config.homeserver_url, **config.discovery.servers}
        # Discovered servers only at public addresses (see sfu/auth/address_guard.py).
        self.public_session: aiohttp.ClientSession | None = None
        if not config.discovery.allow_private_addresses:
            connector = aiohttp.TCPConnector(resolver=PublicOnlyResolver())
            self.public_session = aiohttp.ClientSession(connector=connector)
        resolver = ServerResolver(
            self.session,
            clock,
            servers,
            verify_tls=config.discovery.verify_tls,
            public_session=self.public_session,
        )
        self.access = HomeserverAccess(
            TokenIssuer(config.jwt_secret, config.jwt_ttl_seconds, clock),
            OpenIdVerifier(resolver),
            self.homeserver,
            config.bot_user_id,
        )
        self.roster = CallMembers(self.homeserver, config.bot_user_id, config.public_url)
        self.voice = voice_factory(self.access, self.roster, config)
        self.transactions = Transactions(
            self.homeserver, self.roster, config.bot_user_id, self.voice.remove_user
        )
        self.stale_cleared = asyncio.Event()
        self._clearing: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.transactions.start()
        self._clearing = asyncio.create_task(self._clear_stale())

    async def _clear_stale(self) -> None:
        for attempt in range(1, CLEAR_ATTEMPTS + 1):
            try:
                cleared = await self.roster.clear_stale()
            except HomeserverError as exc:
                log.info("presence clean-up waiting for the homeserver attempt=%d %s", attempt, exc)
                await asyncio.sleep(CLEAR_RETRY_S)
                continue
            log.info("presence of a previous run cleared count=%d", cleared)
            self.stale_cleared.set()
            return
        log.error("presence of a previous run not cleared: homeserver unreachable")

    async def end_calls(self) -> None:
        """Closes every call (WebSockets closed, leaves published) while the HTTP client
        still works; again is harmless."""
        closed = self.voice.close()
        if inspect.isawaitable(closed):
            await closed

    async def stop(self) -> None:
        if self._clearing is not None:
            self._clearing.cancel()
            await asyncio.gather(self._clearing, return_exceptions=True)
        await self.transactions.stop()
        await self.end_calls()
        await self.session.close()
        if self.public_session is not None:
            await self.public_session.close()


class Running:
    """Holds the ``Services`` while the app runs (built in its startup, inside the loop)."""

    services: Services | None = None

    def get(self) -> Services:
        if self.services is None:
            raise AccessDenied(503, "M_UNKNOWN", "The voice server is starting or stopping")
        return self.services


RUNNING = web.AppKey("running", Running)


def services_of(request: web.Request) -> Services:
    return request.app[RUNNING].get()


def error(exc: AccessDenied) -> web.Response:
    return web.json_response(exc.to_json(), status=exc.status)


_CORS = {
    # The web client is served by the homeserver, another origin; the SFU's own token
    # (not cookies) authenticates, so any origin may call.
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
}


@web.middleware
async def errors_and_cors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    if request.method == "OPTIONS":
        return web.Response(status=204, headers=_CORS)
    try:
        response = await handler(request)
    except AccessDenied as exc:
        response = error(exc)
    except web.HTTPNotFound:
        response = error(AccessDenied(404, "M_UNRECOGNIZED", "Unrecognized request"))
    except web.HTTPMethodNotAllowed:
        response = error(AccessDenied(405, "M_UNRECOGNIZED", "Method not allowed"))
    except web.HTTPException:
        raise
    except Exception:
        log.exception("request failed path=%s", request.path)
        response = error(AccessDenied(500, "M_UNKNOWN", "Internal error"))
    if not response.prepared:  # a WebSocket has sent its headers already
        response.headers.update(_CORS)
    return response


async def read_json(request: web.Request, limit: int) -> Any:
    too_large = AccessDenied(413, "M_TOO_LARGE", f"The body is larger than {limit} bytes")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    chunks, size = [], 0
    # Chunk by chunk (a read returns what has arrived), never more than the limit.
    while chunk := await request.content.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except ValueError:
        raise AccessDenied(400, "M_NOT_JSON", "The body is not valid JSON") from None


async def token(request: web.Request) -> web.Response:
    services = services_of(request)
    body = parse_token_request(await read_json(request, TOKEN_BODY_LIMIT))
    jwt, grant = await services.access.issue(body)
    ws_url = services.config.public_url.replace("http", "ws", 1) + "/ws"
    return web.json_response(
        {
            "jwt": jwt,
            "url": ws_url,
            "expires_at_ms": grant.expires_at_ms,
            "user_id": grant.user_id,
            "device_id": grant.device_id,
            "room_id": grant.room_id,
        }
    )


async def websocket(request: web.Request) -> web.StreamResponse:
    return await services_of(request).voice.websocket(request)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    voice = services_of(request).voice
    body = exposition(
        {"concord_sfu_streams": ("Media streams the SFU forwards", voice.stream_count)}
    )
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def _as_auth(request: web.Request) -> None:
    check_hs_token(
        request.headers.get("Authorization"),
        request.query.get("access_token"),
        services_of(request).config.app_service.hs_token,
    )


async def transaction(request: web.Request) -> web.Response:
    _as_auth(request)
    body = await read_json(request, MAX_BODY)
    services_of(request).transactions.receive(request.match_info["txnId"], body)
    return web.json_response({})


async def ping(request: web.Request) -> web.Response:
    _as_auth(request)
    await read_json(request, TOKEN_BODY_LIMIT)
    return web.json_response({})


async def app_service_other(request: web.Request) -> web.Response:
    # spec: user and room alias queries. The SFU creates neither users nor aliases.
    _as_auth(request)
    raise AccessDenied(404, "M_NOT_FOUND", "The voice server has no such user or alias")


def build_app(
    config: SfuConfig,
    *,
    voice_factory: VoiceFactory = media_voice,
    clock: Clock | None = None,
) -> web.Application:
    app = web.Application(middlewares=[errors_and_cors], client_max_size=MAX_BODY)

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        services = Services(config, clock or SystemClock(), voice_factory)
        app[RUNNING].services = services
        services.start()
        yield
        app[RUNNING].services = None
        await services.stop()

    async def end_calls(app: web.Application) -> None:
        # At shutdown, before the server waits for open requests: the WebSockets of the
        # calls would otherwise hold it until its timeout.
        services = app[RUNNING].services
        if services is not None:
            await services.end_calls()

    app[RUNNING] = Running()
    app.cleanup_ctx.append(lifetime)
    app.on_shutdown.append(end_calls)
    app.add_routes(
        [
            web.post("/token", token),
            web.get("/ws", websocket),
            web.get("/health", health),
            web.get("/metrics", metrics),
            web.put("/_matrix/app/v1/transactions/{txnId}", transaction),
            web.post("/_matrix/app/v1/ping", ping),
            web.get("/_matrix/app/v1/users/{userId}", app_service_other),
            web.get("/_matrix/app/v1/rooms/{alias}", app_service_other),
        ]
    )
    return app
