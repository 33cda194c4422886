"""A real SFU media service on a loopback HTTP server, with an in-memory ``Access`` (the
real one, ``sfu/auth``, is tested on its own) and a roster that records calls."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

from sfu.access import AccessDenied, Grant, TrackKind
from sfu.media import MediaSettings, VoiceService
from tests.support.waiting import free_port

from .client import VoiceClient

ROOM = "!voice:example.org"


class FakeAccess:
    """Tokens are ``ok:<user_id>`` (valid for an hour), ``expired:<user_id>``, or
    ``outsider:<user_id>`` (valid, but not a member of the room)."""

    def __init__(self) -> None:
        self.moderators: set[str] = set()

    def verify(self, token: str) -> Grant:
        prefix, _, user_id = token.partition(":")
        now_ms = int(time.time() * 1000)
        if prefix == "expired":
            raise AccessDenied(401, "M_UNKNOWN_TOKEN", "token expired")
        if prefix not in ("ok", "outsider") or not user_id.startswith("@"):
            raise AccessDenied(401, "M_UNKNOWN_TOKEN", "invalid token")
        return Grant(user_id, "DEVICE", ROOM if prefix == "ok" else "!other:x", now_ms + 3600_000)

    async def check_member(self, grant: Grant) -> None:
        if grant.room_id != ROOM:
            raise AccessDenied(403, "M_FORBIDDEN", "not a member of the room")

    async def may_moderate(self, room_id: str, moderator: str, target: str) -> bool:
        return room_id == ROOM and moderator in self.moderators and target != moderator


@dataclass
class RecordingRoster:
    joined: list[tuple[str, str, list[TrackKind]]] = field(default_factory=list)
    left: list[tuple[str, str]] = field(default_factory=list)

    async def joined_call(self, grant: Grant, session_id: str, tracks: list[TrackKind]) -> None:
        self.joined.append((grant.user_id, session_id, list(tracks)))

    async def left_call(self, grant: Grant, session_id: str) -> None:
        self.left.append((grant.user_id, session_id))


class Roster:
    """``CallRoster`` over a ``RecordingRoster``."""

    def __init__(self, record: RecordingRoster) -> None:
        self.record = record

    async def joined(self, grant: Grant, session_id: str, tracks: list[TrackKind]) -> None:
        await self.record.joined_call(grant, session_id, tracks)

    async def left(self, grant: Grant, session_id: str) -> None:
        await self.record.left_call(grant, session_id)


@dataclass
class Sfu:
    service: VoiceService
    access: FakeAccess
    roster: RecordingRoster
    url: str


@pytest.fixture
def drop_timeout() -> float:
    return 10.0


@pytest.fixture
async def sfu(drop_timeout: float) -> AsyncIterator[Sfu]:
    access = FakeAccess()
    record = RecordingRoster()
    service = VoiceService(access, Roster(record), MediaSettings(drop_timeout_s=drop_timeout))
    app = web.Application()
    app.router.add_get("/ws", service.websocket)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield Sfu(service, access, record, f"http://127.0.0.1:{port}/ws")
    finally:
        await service.close()
        await runner.cleanup()


@pytest.fixture
async def clients(sfu: Sfu) -> AsyncIterator[Callable[[], Awaitable[VoiceClient]]]:
    made: list[VoiceClient] = []
    async with aiohttp.ClientSession() as http:

        async def make() -> VoiceClient:
            client = VoiceClient(http, sfu.url)
            made.append(client)
            return client

        try:
            yield make
        finally:
            for client in made:
                await client.close()
