"""Fixtures of the browser tests (tests/web/harness.py says how to use them).

``stack``: one homeserver + SFU processes for the whole session (users are unique per test, so
tests do not see each other's guilds unless they share them); PostgreSQL when reachable
(required under REQUIRE_POSTGRES=1), else SQLite. ``browser``: one headless Chromium
per test module; each user gets their own context (``new_user_page``), closed by the
``contexts`` bookkeeping at the end of the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import REQUIRE_POSTGRES, _drop_database, _pg_dsn_for

from .harness import (
    Stack,
    UserPage,
    launched_browser,
    new_user_page,
    require_browser,
    running_stack,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Browser


def _postgres_database() -> str | None:
    """A fresh database's name, or None (SQLite) when PostgreSQL is unreachable."""
    import uuid

    import psycopg2

    from tests.support.pg_admin import pg_run

    name = "concord_web_" + uuid.uuid4().hex[:12]
    try:
        pg_run(f'CREATE DATABASE "{name}"')
    except psycopg2.OperationalError as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required (REQUIRE_POSTGRES=1) but unreachable: {exc}")
        return None
    return name


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Module-scoped, not session: Playwright's sync API keeps an event loop running in
    this thread while it is open, which would break the asyncio tests of later modules."""
    with launched_browser() as (_, chromium):
        yield chromium


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_browser()  # first: no servers are started where the browser tests skip
    directory: Path = tmp_path_factory.mktemp("concord-web")
    database = _postgres_database()
    try:
        with running_stack(directory, None if database is None else _pg_dsn_for(database)) as s:
            yield s
    finally:
        if database is not None:
            _drop_database(database)


@pytest.fixture
def user_page(stack: Stack, browser: Browser) -> Iterator[Callable[..., UserPage]]:
    """``user_page("alice")``: a new user signed in, in a context closed after the test;
    ``user_page("carol", remote_stack)``: one of another homeserver."""
    opened: list[UserPage] = []

    def make(name: str, on: Stack | None = None) -> UserPage:
        user = new_user_page(on or stack, browser, name)
        opened.append(user)
        return user

    try:
        yield make
    finally:
        for user in opened:
            user.context.close()


@pytest.fixture(scope="session")
def remote_stack(tmp_path_factory: pytest.TempPathFactory, stack: Stack) -> Iterator[Stack]:
    """A second homeserver federating with ``stack``'s (no SFU of its own)."""
    from .federated import running_remote

    directory: Path = tmp_path_factory.mktemp("concord-web-remote")
    database = _postgres_database()
    try:
        with running_remote(
            directory, stack, None if database is None else _pg_dsn_for(database)
        ) as s:
            yield s
    finally:
        if database is not None:
            _drop_database(database)
