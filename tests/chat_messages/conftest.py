"""A Concord server per test over HTTP (each database engine) with users acting like
Matrix clients (``tests.support``)."""

from __future__ import annotations

import pytest

from ..support.matrix_client import Server, User
from ..support.server_fixtures import alice as alice
from ..support.server_fixtures import bob as bob
from ..support.server_fixtures import carol as carol
from ..support.server_fixtures import make_server as make_server
from ..support.server_fixtures import server as server
from ..support.server_fixtures import server_config as server_config


@pytest.fixture
async def dave(server: Server) -> User:
    return await server.register("dave")
