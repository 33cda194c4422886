"""A Concord server per test over HTTP for the enforcement tests (tests/support)."""

from __future__ import annotations

from ..support.server_fixtures import alice as alice
from ..support.server_fixtures import bob as bob
from ..support.server_fixtures import carol as carol
from ..support.server_fixtures import make_server as make_server
from ..support.server_fixtures import server as server
from ..support.server_fixtures import server_config as server_config
