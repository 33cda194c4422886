"""A Concord server per test over HTTP (each database engine) and users that publish
keys like E2EE clients do (``tests.e2ee.crypto`` makes real ed25519 keys and signatures)."""

from __future__ import annotations

from ..support.server_fixtures import alice as alice
from ..support.server_fixtures import bob as bob
from ..support.server_fixtures import carol as carol
from ..support.server_fixtures import make_server as make_server
from ..support.server_fixtures import server as server
from ..support.server_fixtures import server_config as server_config
