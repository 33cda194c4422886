"""Several full Concord servers in one test process, federating with each other.

Each server is ``homeserver.app.build_app`` on its own SQLite database, served by our HTTP
server on two loopback listeners: the client API over plain HTTP (``server.http``, the
same test client as ``make_server``'s) and the federation API over TLS with a
self-signed certificate. The server name is ``localhost:<federation port>``; every
server's config has ``server_overrides`` for all of them, ``ip_range_whitelist``
127.0.0.0/8 and ::1/128 (the SSRF guard refuses loopback otherwise) and
``verify_certificates: false``. All share one ``FakeClock`` unless given a clock.

    async def test_something(federation: StartFederation) -> None:
        a, b = await federation(2)
        alice = await a.register("alice")
        await a.fed_client.get_json(b.name, "/_matrix/federation/v1/version")
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from federation.appkeys import FED_CLIENT_KEY, KEYRING_KEY
from federation.client import FederationClient
from federation.keyring import Keyring
from homeserver.app import build_app
from homeserver.clock import Clock
from homeserver.config import Config, parse_config
from homeserver.http.server import Server as HttpServer
from homeserver.protocol.signing import SigningKey
from homeserver.storage.migrations import migrate
from homeserver.storage.sqlite import SqliteDatabase
from homeserver.tls_files import server_context, write_self_signed

from ..conftest import FakeClock
from .http_client import TestClient
from .matrix_client import Server

LOOPBACK_RANGES = ["127.0.0.0/8", "::1/128"]


class _TwoListeners(TestClient):
    """The test client of one server, whose server also listens for federation (TLS)."""

    def __init__(self, app: Any, fed_sock: socket.socket, tls_files: tuple[Path, Path]) -> None:
        super().__init__(app)
        self.fed_sock = fed_sock
        self.tls_files = tls_files

    async def start(self) -> None:
        self.server = HttpServer(self.app, "127.0.0.1", 0, shutdown_timeout=1.0)
        await self.server.start()
        await self.server.listen(
            "127.0.0.1", 0, ssl=server_context(*self.tls_files), sock=self.fed_sock
        )
        self.session = aiohttp.ClientSession(base_url=f"http://127.0.0.1:{self.server.port}")


class FederatedServer(Server):
    """One Concord server of the federation: a ``matrix_client.Server`` (``register``,
    ``call``, ...) plus its server name, config and federation services."""

    def __init__(
        self, http: _TwoListeners, app: Any, clock: Any, name: str, config: Config, key: SigningKey
    ) -> None:
        super().__init__(http, app, clock)
        self.name = name
        self.config = config
        self.signing_key = key
        self.fed_port = int(name.rpartition(":")[2])

    @property
    def fed_client(self) -> FederationClient:
        return self.app[FED_CLIENT_KEY]

    @property
    def keyring(self) -> Keyring:
        return self.app[KEYRING_KEY]

    @property
    def client_port(self) -> int:
        assert isinstance(self.http, TestClient)
        return self.http.port

    async def stop(self) -> None:
        await self.http.close()


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


async def start_servers(
    count: int,
    workdir: Path,
    *,
    clock: Clock | None = None,
    config: Mapping[str, Any] | None = None,
    configs: list[Mapping[str, Any]] | None = None,
    extra_overrides: Mapping[str, str] | None = None,
) -> list[FederatedServer]:
    """Start ``count`` federating servers; ``config`` is merged into every server's config,
    ``configs[i]`` into server i's; ``extra_overrides`` adds peers (e.g. Synapse) to every
    ``server_overrides``. Stop each with ``await server.stop()``."""
    clock = clock or FakeClock()
    workdir.mkdir(parents=True, exist_ok=True)
    tls = (workdir / "tls.crt", workdir / "tls.key")
    if not tls[0].exists():
        write_self_signed(*tls, "localhost")
    socks = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        socks.append(sock)
    names = [f"localhost:{sock.getsockname()[1]}" for sock in socks]
    overrides = {name: f"127.0.0.1:{name.rpartition(':')[2]}" for name in names}
    overrides.update(extra_overrides or {})
    servers: list[FederatedServer] = []
    try:
        for i, (name, sock) in enumerate(zip(names, socks, strict=True)):
            data_dir = workdir / f"server{i}"
            data_dir.mkdir(exist_ok=True)
            data: dict[str, Any] = {
                "server_name": name,
                "data_dir": str(data_dir),
                "listeners": {
                    "client": {"port": 0},
                    "federation": {
                        "port": int(name.rpartition(":")[2]),
                        "tls_certificate": str(tls[0]),
                        "tls_private_key": str(tls[1]),
                    },
                },
                "bcrypt_rounds": 4,
                "enable_registration": True,
                "rate_limits": {"enabled": False},
                "federation": {
                    "verify_certificates": False,
                    "ip_range_whitelist": LOOPBACK_RANGES,
                    "server_overrides": overrides,
                },
            }
            data = _deep_merge(data, config or {})
            if configs is not None and i < len(configs):
                data = _deep_merge(data, configs[i])
            parsed = parse_config(data, source=f"{name}.yaml", base_dir=workdir)
            key = SigningKey.generate(name)
            db = SqliteDatabase(data_dir / "concord.db")
            migrate(db)
            app = build_app(parsed, key, db, clock=clock)
            http = _TwoListeners(app, sock, tls)
            await http.start()
            servers.append(FederatedServer(http, app, clock, name, parsed, key))
    except BaseException:
        for server in reversed(servers):
            await server.stop()
        for sock in socks[len(servers) :]:
            sock.close()
        raise
    return servers


StartFederation = Callable[..., Awaitable[list[FederatedServer]]]


@pytest.fixture
async def federation(tmp_path: Path) -> AsyncIterator[StartFederation]:
    """``await federation(n, **options)``: ``n`` federating servers (see ``start_servers``),
    stopped when the test ends."""
    started: list[FederatedServer] = []
    counter = 0

    async def start(count: int = 2, **options: Any) -> list[FederatedServer]:
        nonlocal counter
        counter += 1
        servers = await start_servers(count, tmp_path / f"federation{counter}", **options)
        started.extend(servers)
        return servers

    try:
        yield start
    finally:
        for server in reversed(started):
            await server.stop()
