"""An application service for tests: an aiohttp server on 127.0.0.1 that records every
``PUT /_matrix/app/v1/transactions/{txnId}`` and answers ``status`` (200 by default).
``go_down``/``come_back`` close and reopen its port (unreachable meanwhile).

``processed()`` is what a correct AS acts on: the events of the transactions it answered
200, each transaction id once (spec: a retried id is a no-op)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

TXN_PREFIX = "/_matrix/app/v1/transactions/"
HS_TOKEN = "hs_secret_token"
AS_TOKEN = "as_secret_token"


@dataclass(frozen=True)
class Txn:
    txn_id: str
    body: dict[str, Any]
    authorization: str | None
    status: int  # what the AS answered


class FakeAppService:
    def __init__(self) -> None:
        self.received: list[Txn] = []
        self.status = 200
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _transaction(self, request: web.Request) -> web.Response:
        body = await request.json()
        txn = Txn(
            request.match_info["txn_id"], body, request.headers.get("Authorization"), self.status
        )
        self.received.append(txn)
        if self.status != 200:
            return web.json_response({"errcode": "M_UNKNOWN"}, status=self.status)
        return web.json_response({})

    async def _ping(self, request: web.Request) -> web.Response:
        return web.json_response({})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_put(TXN_PREFIX + "{txn_id}", self._transaction)
        app.router.add_post("/_matrix/app/v1/ping", self._ping)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def go_down(self) -> None:
        await self.stop()

    async def come_back(self) -> None:
        await self.start()

    # -- what arrived -----------------------------------------------------------------

    def processed(self) -> list[Txn]:
        seen: set[str] = set()
        out = []
        for txn in self.received:
            if txn.status == 200 and txn.txn_id not in seen:
                seen.add(txn.txn_id)
                out.append(txn)
        return out

    def events(self) -> list[dict[str, Any]]:
        return [e for txn in self.processed() for e in txn.body["events"]]

    def messages(self) -> list[str]:
        """The bodies of the ``m.room.message`` events processed, in order."""
        return [e["content"]["body"] for e in self.events() if e["type"] == "m.room.message"]

    def ephemeral(self) -> list[dict[str, Any]]:
        return [e for txn in self.processed() for e in txn.body.get("ephemeral", [])]

    async def wait_for(
        self, check: Callable[[], bool], what: str = "the transactions", timeout: float = 10.0
    ) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await asyncio.sleep(0.02)


def registration_yaml(
    url: str | None,
    *,
    as_id: str = "bridge",
    users: str = "@_bridge_.*",
    rooms: str | None = None,
    aliases: str | None = None,
    extra: str = "",
) -> str:
    lines = [
        f"id: {as_id}",
        f"url: {url if url is not None else 'null'}",
        f"as_token: {AS_TOKEN}_{as_id}",
        f"hs_token: {HS_TOKEN}_{as_id}",
        "sender_localpart: _bridge_bot" if as_id == "bridge" else f"sender_localpart: {as_id}bot",
        "namespaces:",
        "  users:",
        f"    - regex: '{users}'",
        "      exclusive: true",
    ]
    if rooms is not None:
        lines += ["  rooms:", f"    - regex: '{rooms}'", "      exclusive: false"]
    if aliases is not None:
        lines += ["  aliases:", f"    - regex: '{aliases}'", "      exclusive: false"]
    return "\n".join(lines) + "\n" + extra


def write_registration(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path
