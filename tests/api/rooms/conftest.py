"""A Concord server per test over HTTP (each database engine), and users that act
like two Matrix clients: they register through ``/register`` and call the API with
their own access tokens.

Test modules write scenarios as ``check_*`` coroutines and run several per server in
one ``test_*`` function: a server (a fresh PostgreSQL database) per scenario would
make the suite slow."""

from __future__ import annotations

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

from ...conftest import FakeClock

SERVER = "test.local"
V3 = "/_matrix/client/v3"


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


def q(part: str) -> str:
    """A path segment, percent-encoded as clients send ids."""
    return quote(part, safe="")


class User:
    """One logged-in client."""

    def __init__(self, http: TestClient[web.Request, web.Application], user_id: str, token: str):
        self.http = http
        self.user_id = user_id
        self.token = token
        self._txn = 0

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, str] | None = None,
        raw: bytes | None = None,
        auth: bool = True,
    ) -> Reply:
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        url = path if path.startswith("/_matrix") else V3 + path
        if raw is not None:
            resp = await self.http.request(
                method, url, data=raw, headers=headers, params=params or {}
            )
        else:
            resp = await self.http.request(
                method, url, json=body, headers=headers, params=params or {}
            )
        return Reply(resp.status, await resp.json())

    # -- conveniences ------------------------------------------------------------

    async def create_room(self, **body: Any) -> str:
        return str((await self.call("POST", "/createRoom", body)).ok()["room_id"])

    async def join(self, room: str) -> Reply:
        return await self.call("POST", f"/join/{q(room)}", {})

    async def leave(self, room_id: str) -> Reply:
        return await self.call("POST", f"/rooms/{q(room_id)}/leave", {})

    async def act(self, action: str, room_id: str, target: str, **extra: Any) -> Reply:
        return await self.call(
            "POST", f"/rooms/{q(room_id)}/{action}", {"user_id": target, **extra}
        )

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
    ) -> Reply:
        return await self.call(
            "PUT", f"/rooms/{q(room_id)}/state/{q(event_type)}/{q(state_key)}", content
        )

    async def messages(self, room_id: str, **params: Any) -> Reply:
        return await self.call(
            "GET",
            f"/rooms/{q(room_id)}/messages",
            params={k: str(v) for k, v in params.items()},
        )


class Server:
    def __init__(self, http: TestClient[web.Request, web.Application], clock: FakeClock):
        self.http = http
        self.clock = clock

    async def register(self, username: str, password: str = "correct horse") -> User:
        first = await self.http.post(f"{V3}/register", json={"username": username})
        session = (await first.json())["session"]
        resp = await self.http.post(
            f"{V3}/register",
            json={
                "username": username,
                "password": password,
                "auth": {"type": "m.login.dummy", "session": session},
            },
        )
        body = await resp.json()
        assert resp.status == 200, body
        return User(self.http, body["user_id"], body["access_token"])

    async def anonymous(self, method: str, path: str, body: Any = None) -> Reply:
        resp = await self.http.request(method, V3 + path, json=body)
        return Reply(resp.status, await resp.json())


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
            # These tests act faster than any person; rate limits have their own tests.
            "rate_limits": {"enabled": False},
            **overrides,
        }
        config = parse_config(data, source="test.yaml", base_dir=tmp_path)
        key = SigningKey.from_seed(SERVER, "a_test", b"\x01" * 32)
        http = await aiohttp_client(build_app(config, key, database, clock=clock))
        return Server(http, clock)

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


@pytest.fixture
async def carol(server: Server) -> User:
    return await server.register("carol")
