"""A real SFU (``sfu.app.build_app``) on loopback beside a real in-process homeserver,
registered there as an application service, as ``make run`` sets them up.

The media half is replaced by ``RecordingVoice`` (these tests are about access): it
records ``remove_user`` calls and its ``/ws`` checks the SFU token as the real one does
(``Access.verify`` then ``check_member``) and answers with the grant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from appservice.pusher.queue import BackoffPolicy
from appservice.pusher.setup import PUSHER_KEY
from sfu.access import Access, AccessDenied, CallRoster
from sfu.app import RUNNING, Services, VoiceFactory, build_app
from sfu.config import SfuConfig, parse_config
from sfu.generate import registration_yaml
from tests.support.matrix_client import SERVER, Server, User, q
from tests.support.server_fixtures import MakeServer
from tests.support.waiting import free_port, until

CALL_MEMBER = "org.matrix.msc3401.call.member"
SECRET = "a-test-jwt-secret-0123456789abcdef"
AS_TOKEN = "as-token-of-the-sfu-0123456789"
HS_TOKEN = "hs-token-of-the-sfu-0123456789"


@dataclass
class RecordingVoice:
    access: Access
    roster: CallRoster
    config: SfuConfig
    removed: list[tuple[str, str, str]] = field(default_factory=list)
    streams: int = 0
    closed: bool = False

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        try:
            grant = self.access.verify(request.query.get("token", ""))
            await self.access.check_member(grant)
        except AccessDenied as exc:
            return web.json_response(exc.to_json(), status=exc.status)
        await ws.prepare(request)
        await ws.send_json({"user_id": grant.user_id, "room_id": grant.room_id})
        await ws.close()
        return ws

    async def remove_user(self, room_id: str, user_id: str, reason: str) -> None:
        self.removed.append((room_id, user_id, reason))

    def stream_count(self) -> int:
        return self.streams

    async def close(self) -> None:
        self.closed = True


def sfu_config(
    server_name: str,
    homeserver_url: str,
    port: int,
    servers: dict[str, str],
    *,
    allow_private: bool = False,
    **extra: Any,
) -> SfuConfig:
    data = {
        "server_name": server_name,
        "homeserver_url": homeserver_url,
        "listen": {"host": "127.0.0.1", "port": port},
        "jwt": {"secret": SECRET, "ttl_seconds": 120},
        "app_service": {"id": "concord-sfu", "as_token": AS_TOKEN, "hs_token": HS_TOKEN},
        "discovery": {
            "servers": servers,
            "verify_tls": False,
            "allow_private_addresses": allow_private,
        },
        **extra,
    }
    return parse_config(data, "test-sfu.yaml")


def write_registration(tmp_path: Path, config: SfuConfig) -> str:
    path = tmp_path / "sfu-registration.yaml"
    path.write_text(registration_yaml(config))
    return str(path)


class RunningSfu:
    def __init__(self, config: SfuConfig, runner: web.AppRunner, app: web.Application) -> None:
        self.config = config
        self.runner = runner
        self.app = app
        self.url = f"http://127.0.0.1:{config.port}"
        self.session = aiohttp.ClientSession(base_url=self.url)

    @property
    def services(self) -> Services:
        return self.app[RUNNING].get()

    @property
    def ws_url(self) -> str:
        return self.url.replace("http", "ws", 1) + "/ws"

    @property
    def voice(self) -> RecordingVoice:
        voice = self.services.voice
        assert isinstance(voice, RecordingVoice)
        return voice

    async def post_token(self, body: Any) -> tuple[int, Any]:
        async with self.session.post("/token", json=body) as resp:
            return resp.status, await resp.json()

    async def token_for(self, user: User, room_id: str, device_id: str = "DEV") -> tuple[int, Any]:
        """The whole client flow: an OpenID token from the user's homeserver, traded here."""
        openid = (await user.call("POST", f"/user/{q(user.user_id)}/openid/request_token", {})).ok()
        return await self.post_token(
            {"room_id": room_id, "device_id": device_id, "openid_token": openid}
        )

    async def stop(self) -> None:
        """Idempotent: a test may stop it before its fixture does."""
        if self.session.closed:
            return
        await self.session.close()
        await self.runner.cleanup()


async def start_sfu(
    config: SfuConfig, clock: Any, voice_factory: VoiceFactory = RecordingVoice
) -> RunningSfu:
    app = build_app(config, voice_factory=voice_factory, clock=clock)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", config.port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return RunningSfu(config, runner, app)


def voice_room_power_levels() -> dict[str, Any]:
    """What Concord voice rooms set: everyone may have the SFU bot publish presence."""
    return {"events": {CALL_MEMBER: 0}}


async def voice_room(owner: User, bot: str, **extra: Any) -> str:
    """A voice room of ``owner`` with the SFU's bot invited and (once it acted on the
    invite pushed to it) joined."""
    extra.setdefault("power_level_content_override", voice_room_power_levels())
    room = await owner.create_room(
        preset="public_chat", creation_content={"type": "im.concord.voice"}, **extra
    )
    (await owner.invite(room, bot)).ok()

    async def bot_joined() -> bool:
        reply = await owner.call("GET", f"/rooms/{q(room)}/state/m.room.member/{q(bot)}")
        return reply.status == 200 and reply.body.get("membership") == "join"

    await until(bot_joined, f"{bot} to join {room}")
    return room


async def call_members(user: User, room_id: str) -> dict[str, dict[str, Any]]:
    """state key -> content of the room's call.member state (empty ones included)."""
    state = (await user.call("GET", f"/rooms/{q(room_id)}/state")).ok()
    return {e["state_key"]: e["content"] for e in state if e["type"] == CALL_MEMBER}


@dataclass
class VoiceSetup:
    server: Server
    sfu: RunningSfu


async def start_voice_setup(
    make_server: MakeServer,
    clock: Any,
    tmp_path: Path,
    voice_factory: VoiceFactory = RecordingVoice,
) -> VoiceSetup:
    """A homeserver with the SFU registered, and the SFU. Stop with ``setup.sfu.stop()``
    (the homeserver belongs to ``make_server``)."""
    port = free_port()
    # The registration needs only the SFU's address and tokens: written before the
    # homeserver starts (it reads registrations at start), the SFU started after it.
    draft = sfu_config(SERVER, "http://127.0.0.1:1", port, {})
    server = await make_server(app_service_config_files=[write_registration(tmp_path, draft)])
    server.app[PUSHER_KEY].backoff = BackoffPolicy(min_ms=50, max_ms=200)
    homeserver_url = f"http://127.0.0.1:{server.http.port}"
    config = sfu_config(SERVER, homeserver_url, port, {})
    return VoiceSetup(server, await start_sfu(config, clock, voice_factory))
