"""A Concord server with the federation sender wired, whose peers are a fake
``FederationClient`` (the remote servers are the edge of the machine): it records each
``/send`` transaction and answers as a test tells it (up, down, refusing events).

Remote users join a local room by an event persisted through the pipeline (what the
inbound federation path will do once it exists), so the sender sees a room shared with
a remote server exactly as it will in production.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from federation.appkeys import EDU_REGISTRY_KEY, FEDERATION_SENDER_KEY
from federation.edus import EduRegistry
from federation.sender import setup as sender_setup
from federation.sender.backoff import BackoffPolicy
from federation.sender.sender import FederationSender
from homeserver.app import build_app
from homeserver.appkeys import PIPELINE_KEY
from homeserver.config import parse_config
from homeserver.protocol.events import compute_event_id
from homeserver.protocol.room_versions import DEFAULT_ROOM_VERSION
from homeserver.protocol.signing import SigningKey
from homeserver.storage.database import Database

from ..conftest import FakeClock
from ..support.http_client import ServeApp
from ..support.matrix_client import SERVER, Server

REMOTE = "remote.test"
OTHER = "other.test"
FAST = BackoffPolicy(min_ms=40, max_ms=200, multiplier=2.0, jitter=0.0)


def event_id_of(pdu: dict[str, Any]) -> str:
    """The id of a PDU in a room of the default version (the tests' rooms)."""
    return compute_event_id(pdu, DEFAULT_ROOM_VERSION)


class PeerError(Exception):
    """What ``FederationClient`` raises (``FederationRequestError``): status None for a
    server that could not be reached."""

    def __init__(self, status: int | None, message: str = "down") -> None:
        super().__init__(message)
        self.status = status
        self.errcode = None


@dataclass
class Sent:
    destination: str
    txn_id: str
    body: dict[str, Any]

    @property
    def pdu_ids(self) -> list[str]:
        return [event_id_of(p) for p in self.body["pdus"]]

    def edus(self, edu_type: str) -> list[dict[str, Any]]:
        return [e["content"] for e in self.body.get("edus", []) if e["edu_type"] == edu_type]


class FakePeers:
    """Every remote server, as ``FederationClient.put_json`` reaches it."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []  # transactions the destination accepted
        self.attempts: list[Sent] = []  # every attempt, accepted or not
        self.down: dict[str, int | None] = {}  # destination -> status it fails with
        self.refuse: set[str] = set()  # event ids the peer answers with an error
        self.gate: asyncio.Event | None = None  # when set: requests wait for it
        self.in_flight: dict[str, int] = {}
        self.max_in_flight = 0
        self._changed = asyncio.Condition()

    async def put_json(
        self, destination: str, path: str, body: Any, query: Any = None, *, timeout: float = 60.0
    ) -> Any:
        prefix = "/_matrix/federation/v1/send/"
        assert path.startswith(prefix), path
        sent = Sent(destination, path[len(prefix) :], body)
        self.in_flight[destination] = self.in_flight.get(destination, 0) + 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight[destination])
        try:
            async with self._changed:
                self.attempts.append(sent)
                self._changed.notify_all()
            if self.gate is not None:
                await self.gate.wait()
            if destination in self.down:
                raise PeerError(self.down[destination])
            async with self._changed:
                self.sent.append(sent)
                self._changed.notify_all()
        finally:
            self.in_flight[destination] -= 1
        results: dict[str, Any] = {}
        for pdu in body["pdus"]:
            event_id = event_id_of(pdu)
            results[event_id] = {"error": "refused"} if event_id in self.refuse else {}
        return {"pdus": results}

    def to(self, destination: str) -> list[Sent]:
        return [s for s in self.sent if s.destination == destination]

    async def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition"
    ) -> None:
        async def wait() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        try:
            await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}; sent: {self.sent}") from None


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 5.0) -> None:
    """Poll ``check`` (a database read, say) until it holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@dataclass
class FedServer:
    server: Server
    peers: FakePeers

    @property
    def sender(self) -> FederationSender:
        return self.server.app[FEDERATION_SENDER_KEY]

    @property
    def edus(self) -> EduRegistry:
        return self.server.app[EDU_REGISTRY_KEY]

    async def remote_join(self, room_id: str, user_id: str) -> str:
        """``user_id`` (of another server) joins ``room_id``, as the inbound federation
        path would persist it; returns the event id."""
        pipeline = self.server.app[PIPELINE_KEY]
        item = await pipeline.send(
            room_id, user_id, "m.room.member", {"membership": "join"}, state_key=user_id
        )
        return item.event.event_id


MakeFedServer = Callable[..., Awaitable[FedServer]]


@pytest.fixture
def peers() -> FakePeers:
    return FakePeers()


@pytest.fixture
def make_fed_server(
    database: Database,
    serve_app: ServeApp,
    clock: FakeClock,
    tmp_path: Path,
    peers: FakePeers,
) -> MakeFedServer:
    """``await make_fed_server(domain_whitelist=None)``: one server (it owns ``database``)."""

    async def make(domain_whitelist: list[str] | None = None) -> FedServer:
        data: dict[str, Any] = {
            "server_name": SERVER,
            "listeners": {"client": {"port": 0}},
            "bcrypt_rounds": 4,
            "enable_registration": True,
            "rate_limits": {"enabled": False},
        }
        config = parse_config(data, source="test.yaml", base_dir=tmp_path)
        key = SigningKey.from_seed(SERVER, "a_test", b"\x01" * 32)
        app = build_app(config, key, database, clock=clock)
        sender = sender_setup.setup(app, peers, domain_whitelist=domain_whitelist)
        sender.backoff = FAST
        http = await serve_app(app)
        return FedServer(Server(http, app, clock), peers)

    return make


@pytest.fixture
async def fed(make_fed_server: MakeFedServer) -> FedServer:
    return await make_fed_server()
