"""A small Matrix client over the test server, for readable tests."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

V3 = "/_matrix/client/v3"


class Reply:
    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.body!r})"

    @property
    def errcode(self) -> str | None:
        return self.body.get("errcode") if isinstance(self.body, dict) else None


class Matrix:
    def __init__(self, client: TestClient[web.Request, web.Application]) -> None:
        self.client = client

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        params: dict[str, str] | None = None,
    ) -> Reply:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        url = path if path.startswith("/_matrix") else V3 + path
        resp = await self.client.request(
            method, url, json=body, headers=headers, params=params or {}
        )
        return Reply(resp.status, await resp.json())

    async def register(
        self, username: str, password: str = "correct horse", **extra: Any
    ) -> dict[str, Any]:
        """Register through the dummy flow; returns the 200 body."""
        first = await self.call("POST", "/register", {"username": username, **extra})
        assert first.status == 401, first
        reply = await self.call(
            "POST",
            "/register",
            {
                "username": username,
                "password": password,
                "auth": {"type": "m.login.dummy", "session": first.body["session"]},
                **extra,
            },
        )
        assert reply.status == 200, reply
        return dict(reply.body)

    async def login(self, user: str, password: str = "correct horse", **extra: Any) -> Reply:
        return await self.call(
            "POST",
            "/login",
            {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": user},
                "password": password,
                **extra,
            },
        )

    async def whoami(self, token: str) -> Reply:
        return await self.call("GET", "/account/whoami", token=token)

    async def with_password(
        self,
        method: str,
        path: str,
        body: dict[str, Any],
        *,
        token: str,
        user: str,
        password: str = "correct horse",
    ) -> Reply:
        """Call a UIA endpoint: ask for the session, then answer ``m.login.password``."""
        first = await self.call(method, path, body, token=token)
        assert first.status == 401, first
        assert {"stages": ["m.login.password"]} in first.body["flows"]
        auth = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": password,
            "session": first.body["session"],
        }
        return await self.call(method, path, {**body, "auth": auth}, token=token)
