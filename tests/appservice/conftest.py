"""A Concord server per test with one application service registered, and that
service as a real HTTP endpoint on loopback (aiohttp), as a bridge would run it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web as aioweb

from ..support.matrix_client import SERVER, Server
from ..support.server_fixtures import make_server as make_server
from ..support.server_fixtures import server as server

AS_TOKEN = "as-token-of-the-bridge"
HS_TOKEN = "hs-token-of-the-bridge"
AS_ID = "bridge"
SENDER = f"@_bridge_bot:{SERVER}"
TRANSACTIONS = "/_matrix/app/v1/transactions/"

Handler = Callable[[aioweb.Request], Awaitable[aioweb.StreamResponse]]


@dataclass
class FakeBridge:
    """The application service: records every request, answers with ``handlers``
    (path prefix -> handler; default 404 M_NOT_FOUND). The pusher's transactions are
    acknowledged and kept apart, in ``transactions`` (txn id, body)."""

    url: str = ""
    requests: list[tuple[str, str, str | None, Any]] = field(default_factory=list)
    transactions: list[tuple[str, Any]] = field(default_factory=list)
    handlers: dict[str, Handler] = field(default_factory=dict)

    def paths(self, prefix: str = "") -> list[str]:
        return [p for _, p, _, _ in self.requests if p.startswith(prefix)]


@pytest.fixture
async def bridge() -> AsyncIterator[FakeBridge]:
    state = FakeBridge()

    async def handle(request: aioweb.Request) -> aioweb.StreamResponse:
        body = await request.json() if request.can_read_body else None
        if request.method == "PUT" and request.path.startswith(TRANSACTIONS):
            state.transactions.append((request.path.removeprefix(TRANSACTIONS), body))
            return aioweb.json_response({})
        state.requests.append(
            (request.method, request.path_qs, request.headers.get("Authorization"), body)
        )
        for prefix, handler in state.handlers.items():
            if request.path.startswith(prefix):
                return await handler(request)
        return aioweb.json_response({"errcode": "M_NOT_FOUND"}, status=404)

    app = aioweb.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = aioweb.AppRunner(app)
    await runner.setup()
    site = aioweb.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    state.url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()


def registration_yaml(url: str | None, **extra: Any) -> str:
    lines = [
        f"id: {AS_ID}",
        f"url: {url if url is not None else 'null'}",
        f"as_token: {AS_TOKEN}",
        f"hs_token: {HS_TOKEN}",
        "sender_localpart: _bridge_bot",
        "namespaces:",
        "  users:",
        "    - exclusive: true",
        f"      regex: '@_bridge_.*:{SERVER}'",
        "  aliases:",
        "    - exclusive: true",
        f"      regex: '#_bridge_.*:{SERVER}'",
        "protocols: [bridgenet]",
    ]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def registration_extra() -> dict[str, Any]:
    return {}


@pytest.fixture
def server_config(
    tmp_path: Path, bridge: FakeBridge, registration_extra: dict[str, Any]
) -> dict[str, Any]:
    path = tmp_path / "bridge.yaml"
    path.write_text(registration_yaml(bridge.url, **registration_extra))
    return {"app_service_config_files": [str(path)]}


async def as_call(
    server: Server,
    method: str,
    path: str,
    body: Any = None,
    *,
    user_id: str | None = None,
    token: str = AS_TOKEN,
    **params: str,
) -> Any:
    query = dict(params)
    if user_id is not None:
        query["user_id"] = user_id
    return await server.call(method, path, body, token=token, params=query or None)


async def register_puppet(server: Server, localpart: str) -> Any:
    return await as_call(
        server,
        "POST",
        "/register",
        {"type": "m.login.application_service", "username": localpart, "inhibit_login": True},
    )


def settle() -> Awaitable[None]:
    return asyncio.sleep(0)
