"""Requests from the homeserver to an application service's URL.

spec: application-service-api "Homeserver -> Application Service API", "Authorisation":
every request carries ``Authorization: Bearer <hs_token>``. The URL comes from the
admin's registration file, so loopback and private addresses are allowed (no SSRF guard).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import orjson

from homeserver.http.client import HttpClient, HttpClientError, HttpTimeout

from .registration import Registration

__all__ = ["AppServiceClient", "AppServiceUnreachable", "AsResponse", "path_segment"]

DEFAULT_TIMEOUT_S = 30.0


class AppServiceUnreachable(Exception):
    """No HTTP response: no URL, cannot connect, or timed out (``timed_out``)."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


@dataclass(frozen=True, slots=True)
class AsResponse:
    status: int
    body: bytes

    def json(self) -> Any:
        """The parsed body, or None when it is not JSON."""
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None


def path_segment(value: str) -> str:
    """``value`` percent-encoded as one path segment."""
    return quote(value, safe="")


class AppServiceClient:
    def __init__(self, http: HttpClient | None = None) -> None:
        self._http = http or HttpClient()

    async def request(
        self,
        registration: Registration,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        json_body: Any = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> AsResponse:
        """``method`` ``{url}{path}`` (``path`` already percent-encoded)."""
        if registration.url is None:
            raise AppServiceUnreachable("the application service has no URL")
        url = urlsplit(registration.url)
        tls = url.scheme == "https"
        host = url.hostname or ""
        port = url.port or (443 if tls else 80)
        target = url.path.rstrip("/") + path
        if query:
            target += "?" + urlencode(list(query.items()))
        headers = [
            ("Authorization", f"Bearer {registration.hs_token}"),
            ("Accept", "application/json"),
        ]
        body = None
        if json_body is not None:
            body = orjson.dumps(json_body)
            headers.append(("Content-Type", "application/json"))
        try:
            response = await self._http.request(
                method,
                host,
                port,
                target,
                tls=tls,
                headers=headers,
                body=body,
                timeout=timeout,
            )
        except HttpTimeout as exc:
            raise AppServiceUnreachable(str(exc), timed_out=True) from None
        except (HttpClientError, OSError) as exc:
            raise AppServiceUnreachable(str(exc) or type(exc).__name__) from None
        return AsResponse(response.status, response.body)

    async def close(self) -> None:
        await self._http.close()
