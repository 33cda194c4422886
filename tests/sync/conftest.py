"""A Concord server per test over HTTP (each database engine) and clients that
register through ``/register``, use the room API and sync like Matrix clients."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from homeserver.app import build_app
from homeserver.config import parse_config
from homeserver.protocol.signing import SigningKey
from homeserver.storage.database import Database

from ..conftest import FakeClock

SERVER = "test.local"
V3 = "/_matrix/client/v3"
WS_PATH = "/_matrix/client/unstable/im.concord/sync/ws"


def q(part: str) -> str:
    return quote(part, safe="")


class Reply:
    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.body!r})"

    @property
    def errcode(self) -> str | None:
        return self.body.get("errcode") if isinstance(self.body, dict) else None

    def ok(self) -> Any:
        assert self.status == 200, self
        return self.body


class User:
    def __init__(self, http: TestClient[web.Request, web.Application], user_id: str, token: str):
        self.http = http
        self.user_id = user_id
        self.token = token
        self._txn = 0

    async def call(
        self, method: str, path: str, body: Any = None, *, params: dict[str, str] | None = None
    ) -> Reply:
        url = path if path.startswith("/_matrix") else V3 + path
        resp = await self.http.request(
            method,
            url,
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
            params=params or {},
        )
        return Reply(resp.status, await resp.json())

    async def sync(self, since: str | None = None, **params: Any) -> dict[str, Any]:
        query: dict[str, str] = {}
        if since is not None:
            query["since"] = since
        for key, value in params.items():
            if isinstance(value, dict):
                query[key] = json.dumps(value)
            elif isinstance(value, bool):
                query[key] = "true" if value else "false"
            else:
                query[key] = str(value)
        body: dict[str, Any] = (await self.call("GET", "/sync", params=query)).ok()
        return body

    async def create_room(self, **body: Any) -> str:
        return str((await self.call("POST", "/createRoom", body)).ok()["room_id"])

    async def join(self, room_id: str) -> None:
        (await self.call("POST", f"/join/{q(room_id)}", {})).ok()

    async def leave(self, room_id: str) -> None:
        (await self.call("POST", f"/rooms/{q(room_id)}/leave", {})).ok()

    async def invite(self, room_id: str, user_id: str) -> None:
        (await self.call("POST", f"/rooms/{q(room_id)}/invite", {"user_id": user_id})).ok()

    async def send(
        self, room_id: str, body: str = "hi", *, event_type: str = "m.room.message", **extra: Any
    ) -> str:
        self._txn += 1
        reply = await self.call(
            "PUT",
            f"/rooms/{q(room_id)}/send/{q(event_type)}/t{self._txn}",
            {"msgtype": "m.text", "body": body, **extra},
        )
        return str(reply.ok()["event_id"])

    async def put_state(
        self, room_id: str, event_type: str, content: dict[str, Any], state_key: str = ""
    ) -> str:
        reply = await self.call(
            "PUT", f"/rooms/{q(room_id)}/state/{q(event_type)}/{q(state_key)}", content
        )
        return str(reply.ok()["event_id"])


class Server:
    def __init__(
        self,
        http: TestClient[web.Request, web.Application],
        app: web.Application,
        clock: FakeClock,
    ):
        self.http = http
        self.app = app
        self.clock = clock

    async def register(self, username: str) -> User:
        resp = await self.http.post(
            f"{V3}/register",
            json={
                "username": username,
                "password": "correct horse",
                "auth": {"type": "m.login.dummy"},
            },
        )
        body = await resp.json()
        if resp.status == 401:  # a UIA session first, then the dummy stage
            resp = await self.http.post(
                f"{V3}/register",
                json={
                    "username": username,
                    "password": "correct horse",
                    "auth": {"type": "m.login.dummy", "session": body["session"]},
                },
            )
            body = await resp.json()
        assert resp.status == 200, body
        return User(self.http, body["user_id"], body["access_token"])


MakeServer = Callable[..., Awaitable[Server]]


@pytest.fixture
def make_server(
    aiohttp_client: Any, database: Database, clock: FakeClock, tmp_path: Path
) -> MakeServer:
    async def make(**overrides: Any) -> Server:
        data: dict[str, Any] = {
            "server_name": SERVER,
            "listeners": {"client": {"port": 0}},
            "bcrypt_rounds": 4,
            "enable_registration": True,
            # The fake clock never refills token buckets; sync tests send in bulk.
            "rate_limits": {"enabled": False},
            **overrides,
        }
        config = parse_config(data, source="test.yaml", base_dir=tmp_path)
        key = SigningKey.from_seed(SERVER, "a_test", b"\x01" * 32)
        app = build_app(config, key, database, clock=clock)
        http = await aiohttp_client(app)
        return Server(http, app, clock)

    return make


@pytest.fixture
async def server(make_server: MakeServer) -> Server:
    return await make_server()


@pytest.fixture
async def alice(server: Server) -> User:
    return await server.register("alice")


@pytest.fixture
async def bob(server: Server) -> User:
    return await server.register("bob")
