"""Fixtures that run the real server as a subprocess, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .server_process import ConcordServer, concord_server


@pytest.fixture(params=["sqlite", "postgres"])
def server_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server_factory(
    server_engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> ConcordServer:
    """A configured, NOT started server (start/kill/stop it yourself; stopped at teardown)."""
    dsn = request.getfixturevalue("postgres_dsn") if server_engine == "postgres" else None
    server = ConcordServer(tmp_path / "server", engine=server_engine, dsn=dsn)
    request.addfinalizer(server.stop)
    return server


@pytest.fixture
def server(
    server_engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[ConcordServer]:
    """A running server on each database engine (tests using it run twice)."""
    dsn = request.getfixturevalue("postgres_dsn") if server_engine == "postgres" else None
    with concord_server(tmp_path / "server", engine=server_engine, dsn=dsn) as running:
        yield running
