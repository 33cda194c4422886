"""Requests to an application service's HTTP API, with our own HTTP client.

spec: application-service API "Authorization" — the homeserver authenticates with
``Authorization: Bearer <hs_token>`` (the deprecated ``access_token`` query parameter is
not sent). The AS URL comes from the administrator's registration file: no address
guard (application services usually listen on loopback).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from homeserver.http.client import HttpClient, HttpClientError

JsonDict = dict[str, Any]

TRANSACTION_TIMEOUT_S = 60.0


class AppServiceError(Exception):
    """The application service could not be reached or did not answer 2xx."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def split_url(url: str) -> tuple[bool, str, int, str]:
    """``(tls, host, port, base path without a trailing slash)`` of an AS URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AppServiceError(f"not an http(s) URL: {url!r}")
    tls = parts.scheme == "https"
    try:
        port = parts.port or (443 if tls else 80)
    except ValueError:
        raise AppServiceError(f"bad port in {url!r}") from None
    return tls, parts.hostname, port, parts.path.rstrip("/")


class AppServiceClient:
    def __init__(self, http: HttpClient) -> None:
        self.http = http

    async def request(
        self,
        url: str,
        hs_token: str,
        method: str,
        path: str,
        body: JsonDict | None = None,
        *,
        timeout: float = TRANSACTION_TIMEOUT_S,
    ) -> Any:
        """``method`` ``url`` + ``path`` (already encoded); the decoded JSON answer of a
        2xx, else ``AppServiceError``."""
        tls, host, port, base = split_url(url)
        headers = {"Authorization": f"Bearer {hs_token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = orjson.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            response = await self.http.request(
                method, host, port, base + path, tls=tls, headers=headers, body=data,
                timeout=timeout,
            )  # fmt: skip
        except HttpClientError as exc:
            raise AppServiceError(f"{method} {path}: {exc}") from None
        if not 200 <= response.status < 300:
            raise AppServiceError(f"{method} {path}: HTTP {response.status}", response.status)
        if not response.body:
            return {}
        try:
            return orjson.loads(response.body)
        except orjson.JSONDecodeError:
            return {}

    async def put_transaction(self, url: str, hs_token: str, txn_id: str, body: JsonDict) -> None:
        """spec: ``PUT /_matrix/app/v1/transactions/{txnId}``."""
        path = f"/_matrix/app/v1/transactions/{quote(txn_id, safe='')}"
        await self.request(url, hs_token, "PUT", path, body)
