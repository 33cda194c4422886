"""A Concord server per test over HTTP (each database engine), and users that act
like Matrix clients: they register through ``/register`` and call the API with
their own access tokens (``tests.support``).

Test modules write scenarios as ``check_*`` coroutines and run several per server in
one ``test_*`` function: a server (a fresh PostgreSQL database) per scenario would
make the suite slow."""

from __future__ import annotations

from ...support.server_fixtures import alice as alice
from ...support.server_fixtures import bob as bob
from ...support.server_fixtures import carol as carol
from ...support.server_fixtures import make_server as make_server
from ...support.server_fixtures import server as server
from ...support.server_fixtures import server_config as server_config
