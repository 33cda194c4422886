"""Fixtures that run the real server as a subprocess, on SQLite and on PostgreSQL.

``server`` is one running server per engine for the whole session (tests that use it
register users of their own); ``server_factory`` is a fresh, not yet started server for
tests that crash or restart it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .server_process import ConcordServer, concord_server, fresh_postgres_database

REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConcordServer]:
    """A running server on each database engine (tests using it run twice)."""
    engine = str(request.param)
    with contextlib.ExitStack() as stack:
        dsn = stack.enter_context(_postgres_database()) if engine == "postgres" else None
        workdir = tmp_path_factory.mktemp(f"server-{engine}")
        yield stack.enter_context(concord_server(workdir, engine=engine, dsn=dsn))


@contextlib.contextmanager
def _postgres_database() -> Iterator[str]:
    import psycopg2

    try:
        manager = fresh_postgres_database()
        dsn = manager.__enter__()
    except psycopg2.OperationalError as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required (REQUIRE_POSTGRES=1) but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    try:
        yield dsn
    finally:
        manager.__exit__(None, None, None)


@pytest.fixture(params=["sqlite", "postgres"])
def server_factory(request: pytest.FixtureRequest, tmp_path: Path) -> ConcordServer:
    """A configured, NOT started server (start/kill/stop it yourself; stopped at teardown)."""
    engine = str(request.param)
    dsn = request.getfixturevalue("postgres_dsn") if engine == "postgres" else None
    server = ConcordServer(tmp_path / "server", engine=engine, dsn=dsn)
    request.addfinalizer(server.stop)
    return server
