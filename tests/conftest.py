"""Shared fixtures: databases on both engines, a fake clock.

PostgreSQL tests use the server at 127.0.0.1:5432 (override with CONCORD_TEST_PG,
a DSN to the maintenance database). Each test gets a fresh database. With
REQUIRE_POSTGRES=1 (CI) an unreachable PostgreSQL fails the tests instead of
skipping them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from homeserver.storage.database import Database
from homeserver.storage.migrations import migrate

from .support.pg_admin import PG_ADMIN_DSN, pg_run

# The `serve_app` fixture: an application on our HTTP server, reached over loopback.
pytest_plugins = ["tests.support.http_client"]

REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"


class FakeClock:
    def __init__(self, now_ms: int = 1_700_000_000_000) -> None:
        self.now_ms = now_ms

    def time_ms(self) -> int:
        return self.now_ms

    def monotonic(self) -> float:
        return self.now_ms / 1000

    def advance(self, ms: int) -> None:
        self.now_ms += ms


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _pg_dsn_for(name: str) -> str:
    base, _, _ = PG_ADMIN_DSN.rpartition("/")
    return f"{base}/{name}"


def _create_database(prefix: str) -> str:
    """A new, empty database named ``prefix`` + a random suffix; skips the test when
    PostgreSQL is unreachable (fails it with REQUIRE_POSTGRES=1)."""
    import psycopg2

    name = prefix + uuid.uuid4().hex[:12]
    try:
        pg_run(f'CREATE DATABASE "{name}"')
    except psycopg2.OperationalError as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required (REQUIRE_POSTGRES=1) but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    return name


def _drop_database(name: str) -> None:
    pg_run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_dsn() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    name = _create_database("concord_test_")
    try:
        yield _pg_dsn_for(name)
    finally:
        _drop_database(name)


@pytest.fixture(params=["sqlite", "postgres"])
def db_engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def shared_postgres_dsn() -> Iterator[str]:
    """One migrated PostgreSQL database for the whole run, emptied before each test
    that uses it: creating a database per test costs about a second of checkpoint."""
    from homeserver.storage.postgres import PostgresDatabase

    name = _create_database("concord_shared_")
    dsn = _pg_dsn_for(name)
    db = PostgresDatabase(dsn)
    migrate(db)
    db.close_sync()
    try:
        yield dsn
    finally:
        _drop_database(name)


def _empty_tables(dsn: str) -> None:
    tables = [
        row[0]
        for row in pg_run(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'schema_version'",
            dsn,
        )
    ]
    if tables:
        pg_run("TRUNCATE " + ", ".join(f'"{t}"' for t in tables), dsn)


@pytest.fixture
async def database(
    db_engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Database]:
    """An open, migrated, empty database on each engine (tests using it run twice)."""
    db: Database
    if db_engine == "sqlite":
        from homeserver.storage.sqlite import SqliteDatabase

        db = SqliteDatabase(tmp_path / "test.db")
        migrate(db)
    else:
        from homeserver.storage.postgres import PostgresDatabase

        dsn = request.getfixturevalue("shared_postgres_dsn")
        _empty_tables(dsn)
        db = PostgresDatabase(dsn)
    try:
        yield db
    finally:
        await db.close()
