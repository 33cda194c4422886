"""A push gateway for tests: an aiohttp server on 127.0.0.1 that records each
``/_matrix/push/v1/notify`` request and answers from a script (then 200, nothing
rejected). spec: push-gateway "POST /_matrix/push/v1/notify"."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

NOTIFY = "/_matrix/push/v1/notify"


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic()
    body: dict[str, Any]
    status: int  # what the gateway answered


class FakeGateway:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: list[tuple[int, dict[str, Any]]] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{NOTIFY}"

    async def _notify(self, request: web.Request) -> web.Response:
        body = await request.json()
        status, answer = self.script.pop(0) if self.script else (200, {"rejected": []})
        self.received.append(Received(time.monotonic(), body, status))
        return web.json_response(answer, status=status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(NOTIFY, self._notify)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The first ``count`` requests, once they arrived (fails after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} pushes"
            await asyncio.sleep(0.01)
        return self.received[:count]

    def delivered(self) -> list[dict[str, Any]]:
        return [r.body["notification"] for r in self.received if r.status == 200]


@pytest.fixture
async def gateway() -> AsyncIterator[FakeGateway]:
    fake = FakeGateway()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
