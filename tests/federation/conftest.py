"""Fixtures of the federation tests: ``federation`` starts federating Concord servers
(over TLS, ``tests.support.federation``); ``peers`` is two servers (``a.test`` and
``b.test``), each on its own database of the engine under test, federating through
``fake_peers`` (in-process, no TLS) for what needs both engines or controlled EDUs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from homeserver.app import build_app
from homeserver.config import parse_config
from homeserver.protocol.signing import SigningKey
from homeserver.storage.database import Database
from homeserver.storage.migrations import migrate

from ..conftest import FakeClock
from ..support.federation import federation
from ..support.http_client import ServeApp
from ..support.matrix_client import Server
from .fake_peers import Network, federate, signed, trust

__all__ = ["Peers", "federation", "peers"]

A, B = "a.test", "b.test"


@dataclass
class Peers:
    a: Server
    b: Server
    network: Network
    keys: dict[str, SigningKey]

    async def fed(
        self,
        method: str,
        path: str,
        *,
        origin: str = A,
        destination: str = B,
        params: dict[str, str] | None = None,
        body: Any = None,
    ) -> tuple[int, Any]:
        """A signed federation request from ``origin`` to ``destination``."""
        return await signed(
            self.network, self.keys[origin], method, destination, path, params, body
        )


async def _second_database(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Database:
    if engine == "sqlite":
        from homeserver.storage.sqlite import SqliteDatabase

        db: Database = SqliteDatabase(tmp_path / "b" / "test.db")
    else:
        from homeserver.storage.postgres import PostgresDatabase

        db = PostgresDatabase(request.getfixturevalue("postgres_dsn"))
    migrate(db)
    return db


@pytest.fixture
async def peers(
    database: Database,
    db_engine: str,
    serve_app: ServeApp,
    clock: FakeClock,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Peers]:
    network = Network()
    second = await _second_database(db_engine, tmp_path, request)
    servers = []
    keys = {
        name: SigningKey.from_seed(name, "a_test", bytes([i + 1]) * 32)
        for i, name in enumerate((A, B))
    }
    for name, db in ((A, database), (B, second)):
        config = parse_config(
            {
                "server_name": name,
                "listeners": {"client": {"port": 0}},
                "bcrypt_rounds": 4,
                "enable_registration": True,
                "rate_limits": {"enabled": False},
            },
            source="test.yaml",
            base_dir=tmp_path / name,
        )
        app = build_app(config, keys[name], db, clock=clock)
        federate(app, network, keys[name])
        await trust(app, [k for n, k in keys.items() if n != name])
        http = await serve_app(app)
        network.peers[name] = http
        servers.append(Server(http, app, clock))
    yield Peers(servers[0], servers[1], network, keys)
