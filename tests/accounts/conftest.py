"""A Concord server per test, over HTTP, on each database engine (``database`` fixture),
with JWT login enabled."""

from __future__ import annotations

from typing import Any

import pytest

from ..support.server_fixtures import make_server as make_server
from ..support.server_fixtures import server as server

JWT_SECRET = "a-test-secret-that-is-long-enough-for-hs256"


@pytest.fixture
def server_config() -> dict[str, Any]:
    return {
        "jwt": {
            "enabled": True,
            "secret": JWT_SECRET,
            "issuer": "https://id.test",
            "audiences": ["concord"],
        },
    }
