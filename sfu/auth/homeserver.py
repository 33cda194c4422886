"""Our homeserver's client-server API, as the SFU's application-service bot.

spec: application-service API "Identity assertion": requests carry the ``as_token`` and act
as the registration's sender (the bot) unless ``user_id`` says otherwise. The SFU only
ever acts as its bot.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp

V3 = "/_matrix/client/v3"
TIMEOUT_S = 15.0
CALL_MEMBER = "org.matrix.msc3401.call.member"


class HomeserverError(Exception):
    """The homeserver refused (``status`` and ``errcode`` from its answer) or could not be
    reached (``status`` 0)."""

    def __init__(self, status: int, errcode: str, message: str) -> None:
        super().__init__(f"{status} {errcode}: {message}")
        self.status = status
        self.errcode = errcode
        self.message = message


def _q(part: str) -> str:
    return quote(part, safe="")


class HomeserverClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, as_token: str) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {as_token}"}

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        try:
            async with self.session.request(
                method,
                self.base_url + V3 + path,
                json=body,
                headers=self.headers,
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_S),
            ) as resp:
                data = await resp.json(content_type=None)
                status = resp.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise HomeserverError(0, "M_UNKNOWN", f"homeserver unreachable: {exc!r}") from None
        if status != 200:
            errcode = data.get("errcode", "M_UNKNOWN") if isinstance(data, dict) else "M_UNKNOWN"
            error = data.get("error", "") if isinstance(data, dict) else ""
            raise HomeserverError(status, str(errcode), str(error))
        return data

    async def state_event(self, room_id: str, event_type: str, state_key: str) -> Any:
        """The content of one state event; None when the room has none (404)."""
        try:
            return await self.request(
                "GET", f"/rooms/{_q(room_id)}/state/{_q(event_type)}/{_q(state_key)}"
            )
        except HomeserverError as exc:
            if exc.status == 404:
                return None
            raise

    async def room_state(self, room_id: str) -> list[Any]:
        state = await self.request("GET", f"/rooms/{_q(room_id)}/state")
        return state if isinstance(state, list) else []

    async def put_state(
        self, room_id: str, event_type: str, state_key: str, content: dict[str, Any]
    ) -> None:
        await self.request(
            "PUT", f"/rooms/{_q(room_id)}/state/{_q(event_type)}/{_q(state_key)}", content
        )

    async def join(self, room_id: str) -> None:
        await self.request("POST", f"/join/{_q(room_id)}", {})

    async def joined_rooms(self) -> list[str]:
        body = await self.request("GET", "/joined_rooms")
        rooms = body.get("joined_rooms") if isinstance(body, dict) else None
        return [r for r in rooms or [] if isinstance(r, str)]
