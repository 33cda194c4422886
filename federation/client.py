"""Requests to other servers: found through discovery, signed with X-Matrix, JSON in and
out.

spec: server-server "API standards" (JSON bodies, UTF-8), "Request Authentication"
(every request signed by the origin, ``destination`` always sent), "Resolving server
names" (``federation.discovery``). Errors are one type, ``FederationRequestError``, whose
``status`` is None when no HTTP answer came back (connection refused, timeout, refused
address, malformed response) and the HTTP status otherwise, with the Matrix ``errcode``
when the body had one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import orjson

from homeserver.config import FederationConfig
from homeserver.http.client import (
    ConnectFailed,
    HttpClient,
    HttpClientError,
    HttpResponse,
    HttpTimeout,
)
from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.signing import SigningKey
from homeserver.protocol.x_matrix import sign_request

from .discovery import Discovery

log = logging.getLogger(__name__)

Query = Mapping[str, str | Sequence[str]]

# Room state in send_join answers of large rooms runs to tens of megabytes.
DEFAULT_MAX_RESPONSE_BYTES = 100 * 1024 * 1024


class FederationRequestError(Exception):
    def __init__(
        self,
        status: int | None,
        errcode: str | None,
        message: str,
        *,
        body: Any = None,
        retry_after_ms: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.errcode = errcode
        self.message = message
        self.body = body  # the parsed error body, when there was one
        self.retry_after_ms = retry_after_ms

    def __str__(self) -> str:
        status = "no response" if self.status is None else f"HTTP {self.status}"
        errcode = f" {self.errcode}" if self.errcode else ""
        return f"{status}{errcode}: {self.message}"


def fed_path(template: str, *args: str) -> str:
    """``template`` with each ``{}`` replaced by an argument percent-encoded as one path
    segment (``fed_path("/_matrix/federation/v1/event/{}", event_id)``)."""
    return template.format(*(quote(arg, safe="") for arg in args))


def encode_query(query: Query | None) -> str:
    if not query:
        return ""
    pairs: list[str] = []
    for name, values in query.items():
        for value in [values] if isinstance(values, str) else values:
            pairs.append(f"{quote(name, safe='')}={quote(value, safe='')}")
    return "?" + "&".join(pairs)


class FederationClient:
    def __init__(
        self,
        signing_key: SigningKey,
        http: HttpClient,
        discovery: Discovery,
        config: FederationConfig,
        *,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.server_name = signing_key.server_name
        self.signing_key = signing_key
        self.http = http
        self.discovery = discovery
        self.config = config
        self.max_response_bytes = max_response_bytes

    async def get_json(
        self, destination: str, path: str, query: Query | None = None, *, timeout: float = 60.0
    ) -> Any:
        return await self.request_json("GET", destination, path, None, query, timeout=timeout)

    async def put_json(
        self,
        destination: str,
        path: str,
        body: Any,
        query: Query | None = None,
        *,
        timeout: float = 60.0,
    ) -> Any:
        return await self.request_json("PUT", destination, path, body, query, timeout=timeout)

    async def post_json(
        self,
        destination: str,
        path: str,
        body: Any,
        query: Query | None = None,
        *,
        timeout: float = 60.0,
    ) -> Any:
        return await self.request_json("POST", destination, path, body, query, timeout=timeout)

    async def request_json(
        self,
        method: str,
        destination: str,
        path: str,
        body: Any,
        query: Query | None = None,
        *,
        timeout: float = 60.0,
    ) -> Any:
        """Send a signed request; the parsed JSON answer of a 2xx, else raise
        ``FederationRequestError``."""
        response = await self._request(method, destination, path, body, query, timeout=timeout)
        try:
            return response.json()
        except HttpClientError as exc:
            raise FederationRequestError(response.status, None, str(exc)) from None

    async def get_raw(
        self,
        destination: str,
        path: str,
        query: Query | None = None,
        *,
        timeout: float = 60.0,
        max_bytes: int | None = None,
    ) -> HttpResponse:
        """A signed GET whose 2xx answer is returned as it came (media); errors raise
        ``FederationRequestError``."""
        return await self._request(
            "GET", destination, path, None, query, timeout=timeout, max_bytes=max_bytes
        )

    async def _request(
        self,
        method: str,
        destination: str,
        path: str,
        body: Any,
        query: Query | None = None,
        *,
        timeout: float = 60.0,
        max_bytes: int | None = None,
    ) -> HttpResponse:
        if not self.config.enabled:
            raise FederationRequestError(None, "M_FORBIDDEN", "federation is disabled")
        if not self.config.allows(destination):
            raise FederationRequestError(
                None, "M_FORBIDDEN", f"{destination} is not in federation.domain_whitelist"
            )
        if not path.startswith("/_matrix/"):
            raise ValueError(f"a federation path starts with /_matrix/: {path!r}")
        uri = path + encode_query(query)
        payload = None if body is None else orjson.dumps(body)
        authorization = sign_request(self.signing_key, method, uri, destination, body)
        headers = [("Authorization", authorization), ("Accept", "application/json")]
        if payload is not None:
            headers.append(("Content-Type", "application/json"))
        started = time.monotonic()
        limit = self.max_response_bytes if max_bytes is None else max_bytes
        try:
            async with asyncio.timeout(timeout):
                response = await self._send(
                    method, destination, uri, headers, payload, timeout, limit
                )
        except TimeoutError:
            raise FederationRequestError(
                None, None, f"{method} {destination}{path}: no answer within {timeout} s"
            ) from None
        elapsed_ms = int((time.monotonic() - started) * 1000)
        log.debug(
            "federation %s %s%s -> %d in %d ms",
            method,
            destination,
            path,
            response.status,
            elapsed_ms,
        )
        if 200 <= response.status < 300:
            return response
        raise _error_from(response.status, response.body, f"{method} {destination}{path}")

    async def _send(
        self,
        method: str,
        destination: str,
        uri: str,
        headers: list[tuple[str, str]],
        payload: bytes | None,
        timeout: float,
        max_body: int,
    ) -> HttpResponse:
        try:
            targets = await self.discovery.resolve(destination)
        except InvalidIdentifier as exc:
            raise FederationRequestError(None, None, f"bad server name: {exc}") from None
        failures: list[str] = []
        for target in targets:
            try:
                return await self.http.request(
                    method,
                    target.host,
                    target.port,
                    uri,
                    headers=headers,
                    body=payload,
                    host_header=target.host_header,
                    server_hostname=target.tls_name,
                    timeout=timeout,
                    max_body=max_body,
                )
            except ConnectFailed as exc:
                failures.append(str(exc))  # nothing was sent: the next target may work
            except HttpTimeout:
                raise TimeoutError from None
            except HttpClientError as exc:
                raise FederationRequestError(None, None, f"{destination}: {exc}") from None
        raise FederationRequestError(None, None, f"{destination}: {'; '.join(failures)}")


def _error_from(status: int, body: bytes, what: str) -> FederationRequestError:
    parsed: Any = None
    with contextlib.suppress(orjson.JSONDecodeError):
        parsed = orjson.loads(body)
    errcode = message = None
    retry_after_ms = None
    if isinstance(parsed, dict):
        if isinstance(parsed.get("errcode"), str):
            errcode = parsed["errcode"]
        if isinstance(parsed.get("error"), str):
            message = parsed["error"]
        retry = parsed.get("retry_after_ms")
        if isinstance(retry, int) and not isinstance(retry, bool):
            retry_after_ms = retry
    if message is None:
        message = body[:200].decode("utf-8", "replace") or "no error message"
    return FederationRequestError(
        status, errcode, f"{what}: {message}", body=parsed, retry_after_ms=retry_after_ms
    )
