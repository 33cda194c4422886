"""A Concord server per test, over HTTP, on each database engine (``database`` fixture)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from homeserver.app import build_app
from homeserver.config import parse_config
from homeserver.protocol.signing import SigningKey
from homeserver.storage.database import Database

from ..conftest import FakeClock
from .matrix import Matrix

SERVER = "test.local"
JWT_SECRET = "a-test-secret-that-is-long-enough-for-hs256"

MakeServer = Callable[..., Awaitable[Matrix]]


def base_config(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "server_name": SERVER,
        "listeners": {"client": {"port": 0}},
        "bcrypt_rounds": 4,
        "enable_registration": True,
        # These tests act faster than any person; rate limits have their own tests.
        "rate_limits": {"enabled": False},
        "jwt": {
            "enabled": True,
            "secret": JWT_SECRET,
            "issuer": "https://id.test",
            "audiences": ["concord"],
        },
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_server(
    aiohttp_client: Any, database: Database, clock: FakeClock, tmp_path: Path
) -> MakeServer:
    """``await make_server(**config_overrides)``: one server (it owns ``database``)."""

    async def make(**overrides: Any) -> Matrix:
        config = parse_config(base_config(**overrides), source="test.yaml", base_dir=tmp_path)
        key = SigningKey.from_seed(SERVER, "a_test", b"\x01" * 32)
        client: TestClient[web.Request, web.Application] = await aiohttp_client(
            build_app(config, key, database, clock=clock)
        )
        return Matrix(client)

    return make


@pytest.fixture
async def server(make_server: MakeServer) -> Matrix:
    return await make_server()
