"""The HTTP client pushers use to reach push gateways.

aiohttp's client is imported when the first notification is sent, never at start: an
idle server keeps its memory (tests/server/test_footprint.py), and a server without
pushers never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    import aiohttp

# A gateway's answer is a small JSON object (``{"rejected": [...]}``); more is not read.
MAX_RESPONSE_BYTES = 64 * 1024


class GatewayError(Exception):
    """The gateway could not be reached, or answered with something other than 200."""


class GatewayClient:
    def __init__(self, timeout_s: float = 15.0) -> None:
        self.timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None

    async def notify(self, url: str, body: dict[str, Any]) -> list[str]:
        """POST a notification; returns the pushkeys the gateway rejected.

        spec: push-gateway "POST /_matrix/push/v1/notify". Raises ``GatewayError``
        for any failure (the pusher retries)."""
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                headers={"User-Agent": "Concord"},
            )
        try:
            async with self._session.post(
                url,
                data=orjson.dumps(body),
                headers={"Content-Type": "application/json"},
                allow_redirects=False,
            ) as resp:
                raw = await resp.content.read(MAX_RESPONSE_BYTES)
                if resp.status != 200:
                    raise GatewayError(f"gateway answered {resp.status}")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise GatewayError(f"{type(exc).__name__}: {exc}") from exc
        try:
            answer = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            answer = {}
        rejected = answer.get("rejected") if isinstance(answer, dict) else None
        if not isinstance(rejected, list):
            return []
        return [key for key in rejected if isinstance(key, str)]

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
