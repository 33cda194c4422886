"""Fixtures for a Concord server per test over HTTP, on each database engine (the
``database`` fixture), with registered users. A test package's conftest imports the ones
it uses and may override ``server_config`` with the settings its tests need."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from homeserver.app import build_app
from homeserver.config import parse_config
from homeserver.protocol.signing import SigningKey
from homeserver.storage.database import Database

from ..conftest import FakeClock
from .http_client import ServeApp
from .matrix_client import SERVER, Server, User

MakeServer = Callable[..., Awaitable[Server]]


@pytest.fixture
def server_config() -> dict[str, Any]:
    """Config on top of the base one, for every server of a test package."""
    return {}


@pytest.fixture
def make_server(
    database: Database,  # first: set up before the server, closed after it stopped
    serve_app: ServeApp,
    clock: FakeClock,
    tmp_path: Path,
    server_config: dict[str, Any],
) -> MakeServer:
    """``await make_server(**config_overrides)``: one server (it owns ``database``)."""

    async def make(**overrides: Any) -> Server:
        data: dict[str, Any] = {
            "server_name": SERVER,
            "listeners": {"client": {"port": 0}},
            "bcrypt_rounds": 4,
            "enable_registration": True,
            # These tests act faster than any person, and the fake clock never refills
            # token buckets; rate limits have their own tests.
            "rate_limits": {"enabled": False},
            **server_config,
            **overrides,
        }
        config = parse_config(data, source="test.yaml", base_dir=tmp_path)
        key = SigningKey.from_seed(SERVER, "a_test", b"\x01" * 32)
        app = build_app(config, key, database, clock=clock)
        http = await serve_app(app)
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


@pytest.fixture
async def carol(server: Server) -> User:
    return await server.register("carol")
