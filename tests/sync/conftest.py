"""A Concord server per test over HTTP (each database engine) and clients that
register through ``/register``, use the room API and sync like Matrix clients."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
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
from homeserver.storage.migrations import migrate

from ..conftest import PG_ADMIN_DSN, REQUIRE_POSTGRES, FakeClock, _pg_dsn_for

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


@pytest.fixture(scope="session")
def sync_postgres_dsn() -> Iterator[str]:
    """One migrated PostgreSQL database for this package's tests, emptied before each
    test: creating a database per test costs a second of checkpoint each."""
    import psycopg

    from homeserver.storage.postgres import PostgresDatabase

    name = "concord_sync_" + uuid.uuid4().hex[:12]
    try:
        admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required (REQUIRE_POSTGRES=1) but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    dsn = _pg_dsn_for(name)
    db = PostgresDatabase(dsn)
    migrate(db)
    _close_now(db)
    try:
        yield dsn
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _close_now(db: Database) -> None:
    """Close outside any event loop (``close`` has nothing to await for PostgreSQL)."""
    closing = db.close()
    try:
        closing.send(None)
    except StopIteration:
        return
    raise RuntimeError("Database.close awaited something")


def _empty_tables(dsn: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                " AND tablename <> 'schema_version'"
            )
        ]
        if tables:
            conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables))


@pytest.fixture
async def database(
    db_engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Database]:
    """Like the shared fixture (a clean database on each engine), but PostgreSQL
    tests share one database, emptied before each test."""
    db: Database
    if db_engine == "sqlite":
        from homeserver.storage.sqlite import SqliteDatabase

        db = SqliteDatabase(tmp_path / "test.db")
        migrate(db)
    else:
        from homeserver.storage.postgres import PostgresDatabase

        dsn = request.getfixturevalue("sync_postgres_dsn")
        _empty_tables(dsn)
        db = PostgresDatabase(dsn)
    try:
        yield db
    finally:
        await db.close()


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
