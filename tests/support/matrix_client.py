"""A small Matrix client over the in-process test server, for readable tests.

``Server`` talks to the server as any client (pass ``token=`` to authenticate);
``User`` is one logged-in client that registered through ``/register``."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from homeserver.http import web

from ..conftest import FakeClock
from .http_client import TestClient

SERVER = "test.local"
V3 = "/_matrix/client/v3"
PASSWORD = "correct horse"

Http = TestClient


class Reply:
    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.body!r})"

    @property
    def errcode(self) -> str | None:
        return self.body.get("errcode") if isinstance(self.body, dict) else None

    def ok(self) -> Any:
        assert self.status == 200, self
        return self.body


def q(part: str) -> str:
    """A path segment, percent-encoded as clients send ids."""
    return quote(part, safe="")


async def request(
    http: Http,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = None,
    params: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> Reply:
    """One API call; ``path`` is relative to ``/_matrix/client/v3`` unless it is absolute."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = path if path.startswith("/_matrix") else V3 + path
    if raw is not None:
        resp = await http.request(method, url, data=raw, headers=headers, params=params)
    else:
        resp = await http.request(method, url, json=body, headers=headers, params=params)
    return Reply(resp.status, await resp.json())


class User:
    """One logged-in client (``device_id`` is empty where the test did not learn it)."""

    def __init__(self, http: Http, user_id: str, token: str, device_id: str = ""):
        self.http = http
        self.user_id = user_id
        self.token = token
        self.device_id = device_id
        self._txn = 0

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, str] | None = None,
        raw: bytes | None = None,
        auth: bool = True,
    ) -> Reply:
        token = self.token if auth else None
        return await request(self.http, method, path, body, token=token, params=params, raw=raw)

    # -- conveniences ------------------------------------------------------------

    async def sync(self, since: str | None = None, **params: Any) -> dict[str, Any]:
        query: dict[str, str] = {}
        if since is not None:
            query["since"] = since
        for key, value in params.items():
            if isinstance(value, dict):
                query[key] = json.dumps(value)
            elif isinstance(value, bool):
                query[key] = "true" if value else "false"
            else:
                query[key] = str(value)
        body: dict[str, Any] = (await self.call("GET", "/sync", params=query)).ok()
        return body

    async def create_room(self, **body: Any) -> str:
        return str((await self.call("POST", "/createRoom", body)).ok()["room_id"])

    async def join(self, room: str) -> Reply:
        return await self.call("POST", f"/join/{q(room)}", {})

    async def leave(self, room_id: str) -> Reply:
        return await self.call("POST", f"/rooms/{q(room_id)}/leave", {})

    async def act(self, action: str, room_id: str, target: str, **extra: Any) -> Reply:
        """``invite``, ``kick``, ``ban``, ``unban`` ``target`` in the room."""
        return await self.call(
            "POST", f"/rooms/{q(room_id)}/{action}", {"user_id": target, **extra}
        )

    async def invite(self, room_id: str, target: str) -> Reply:
        return await self.act("invite", room_id, target)

    async def send(
        self, room_id: str, body: str = "hi", *, event_type: str = "m.room.message", **extra: Any
    ) -> str:
        """Send with a fresh transaction id; returns the event id."""
        self._txn += 1
        reply = await self.call(
            "PUT",
            f"/rooms/{q(room_id)}/send/{q(event_type)}/t{self._txn}",
            {"msgtype": "m.text", "body": body, **extra},
        )
        return str(reply.ok()["event_id"])

    async def put_state(
        self, room_id: str, event_type: str, content: dict[str, Any], state_key: str = ""
    ) -> Reply:
        return await self.call(
            "PUT", f"/rooms/{q(room_id)}/state/{q(event_type)}/{q(state_key)}", content
        )

    async def messages(self, room_id: str, **params: Any) -> Reply:
        return await self.call(
            "GET",
            f"/rooms/{q(room_id)}/messages",
            params={k: str(v) for k, v in params.items()},
        )


class Server:
    """The test server as seen by clients, plus the app and the fake clock behind it."""

    def __init__(self, http: Http, app: web.Application, clock: FakeClock):
        self.http = http
        self.app = app
        self.clock = clock

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        params: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Reply:
        return await request(self.http, method, path, body, token=token, params=params, raw=raw)

    async def register(self, username: str, password: str = PASSWORD, **extra: Any) -> User:
        """Register through the dummy flow (spec: client-server "Dummy Auth")."""
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
        body = reply.ok()
        return User(self.http, body["user_id"], body["access_token"], body["device_id"])

    async def login(self, user: str, password: str = PASSWORD, **extra: Any) -> Reply:
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
        password: str = PASSWORD,
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
