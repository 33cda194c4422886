"""A test client for an application served by Concord's HTTP server on a loopback port,
talked to with aiohttp's client (a real HTTP client over a real socket).

    client = await serve_app(app)           # the ``serve_app`` fixture
    resp = await client.get("/_matrix/client/versions")
    ws = await client.ws_connect("/path")
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from homeserver.http.app import Application
from homeserver.http.server import Server


class TestClient:
    __test__ = False  # not a test class, whatever its name

    def __init__(self, app: Application) -> None:
        self.app = app
        self.server: Server | None = None
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        # A short drain: a test ending with a long-poll in flight should not wait for it.
        self.server = Server(self.app, "127.0.0.1", 0, shutdown_timeout=1.0)
        await self.server.start()
        self.session = aiohttp.ClientSession(base_url=f"http://127.0.0.1:{self.server.port}")

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.port

    def _session(self) -> aiohttp.ClientSession:
        assert self.session is not None, "start() first"
        return self.session

    async def request(self, method: str, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self._session().request(method, path, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.request("PUT", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.request("DELETE", path, **kwargs)

    async def options(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.request("OPTIONS", path, **kwargs)

    async def head(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.request("HEAD", path, **kwargs)

    async def ws_connect(self, path: str, **kwargs: Any) -> aiohttp.ClientWebSocketResponse:
        ws: aiohttp.ClientWebSocketResponse = await self._session().ws_connect(path, **kwargs)
        return ws

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None
        if self.server is not None:
            await self.server.stop()
            self.server = None


ServeApp = Callable[[Application], Awaitable[TestClient]]


@pytest.fixture
async def serve_app() -> AsyncIterator[ServeApp]:
    """``await serve_app(app)``: serves ``app`` until the test ends."""
    clients: list[TestClient] = []

    async def serve(app: Application) -> TestClient:
        client = TestClient(app)
        await client.start()
        clients.append(client)
        return client

    yield serve
    for client in reversed(clients):
        await client.close()
