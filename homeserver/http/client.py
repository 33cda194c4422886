"""A small HTTP/1.1 client over asyncio, responses parsed by llhttp (``httptools``).

What federation needs and no more: one request at a time per connection, kept-alive
connections reused per (host, port, TLS, certificate name), ``Content-Length``,
chunked and read-until-close bodies, a cap on the body size, one deadline per request,
TLS with the expected name sent as SNI (none for an IP address, as ``ssl`` does) and
optionally no certificate verification (tests). Names are resolved here and every
address is offered to ``allow_address`` before connecting, so a guard against private
addresses checks the address actually used, not the name (DNS rebinding).

Why not aiohttp's client: see ``homeserver.http`` (memory).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httptools
import orjson

from .headers import Headers

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_HEADER_BYTES = 64 * 1024
DEFAULT_MAX_BODY = 16 * 1024 * 1024
IDLE_TIMEOUT_S = 30.0  # below the usual servers' keep-alive (ours: 75 s)
MAX_IDLE_PER_HOST = 8
USER_AGENT = "Concord"


class HttpClientError(Exception):
    """No usable response: could not connect, refused address, timeout, bad response."""


class HttpTimeout(HttpClientError):
    pass


class ResponseTooLarge(HttpClientError):
    pass


class ConnectFailed(HttpClientError):
    """No connection could be made (nothing was sent): another address may work."""


class AddressRefused(ConnectFailed):
    """Every address of the host is one we may not connect to."""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: Headers
    body: bytes

    def json(self) -> Any:
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError as exc:
            raise HttpClientError(f"the response is not JSON: {exc}") from None


class _Stale(HttpClientError):
    """A reused connection closed before answering: the request may be retried."""


class _Connection(asyncio.Protocol):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_timer: asyncio.TimerHandle | None = None
        self._waiter: asyncio.Future[HttpResponse] | None = None
        self._parser: httptools.HttpResponseParser | None = None
        self._reset(0)

    def _reset(self, max_body: int) -> None:
        self._max_body = max_body
        self._status = 0
        self._headers: list[tuple[str, str]] = []
        self._header_bytes = 0
        self._body: list[bytes] = []
        self._body_bytes = 0
        self._headers_done = False
        self._until_close = False  # no length, not chunked: the body ends with the connection
        self._got_bytes = False
        self.keep_alive = False

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._headers_done and self._until_close:
            self._finish()
        elif not self._got_bytes:
            waiter.set_exception(_Stale("the connection closed before any response"))
        else:
            waiter.set_exception(HttpClientError("the connection closed mid-response"))

    def data_received(self, data: bytes) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done() or self._parser is None:
            self.close()  # nothing was asked: a confused or hostile server
            return
        self._got_bytes = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            self._fail(cause if isinstance(cause, HttpClientError) else HttpClientError(str(exc)))
        except httptools.HttpParserError as exc:
            self._fail(HttpClientError(f"malformed HTTP response: {exc}"))
        except HttpClientError as exc:
            self._fail(exc)

    def eof_received(self) -> bool | None:
        return None

    # -- httptools callbacks ------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._headers = []
        self._header_bytes = 0
        self._body = []
        self._body_bytes = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > MAX_HEADER_BYTES:
            raise HttpClientError("the response headers are too large")
        self._headers.append((name.decode("latin-1"), value.decode("latin-1").rstrip(" \t")))

    def on_headers_complete(self) -> None:
        assert self._parser is not None
        self._status = self._parser.get_status_code()
        names = {name.lower() for name, _ in self._headers}
        self._until_close = (
            "content-length" not in names
            and "transfer-encoding" not in names
            and self._status >= 200
            and self._status not in (204, 304)
        )
        self._headers_done = self._status >= 200

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        if self._body_bytes > self._max_body:
            raise ResponseTooLarge(f"the response body is over {self._max_body} bytes")
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._status < 200:
            return  # 1xx interim responses: the final one follows on the same parser
        assert self._parser is not None
        self.keep_alive = self._parser.should_keep_alive() and not self._until_close
        self._finish()

    # -- requests -----------------------------------------------------------------------

    def _finish(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
            waiter.set_result(HttpResponse(self._status, Headers.received(self._headers), body))

    def _fail(self, exc: Exception) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.close()

    async def exchange(self, request: bytes, max_body: int) -> HttpResponse:
        if self.closed or self.transport is None or self.transport.is_closing():
            raise _Stale("the connection is closed")
        self._reset(max_body)
        self._parser = httptools.HttpResponseParser(self)
        self._waiter = self.loop.create_future()
        try:
            self.transport.write(request)
            return await self._waiter
        finally:
            self._waiter = None
            self._parser = None

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        self.closed = True


PoolKey = tuple[str, int, bool, str | None]


def _factory(conn: _Connection) -> Callable[[], _Connection]:
    return lambda: conn


def _check_token(value: str, what: str) -> None:
    if any(c in value for c in "\r\n\0"):
        raise ValueError(f"{what} may not contain CR, LF or NUL: {value!r}")


class HttpClient:
    """HTTP/1.1 requests with a keep-alive pool; ``close()`` when done."""

    def __init__(
        self,
        *,
        verify_tls: bool = True,
        allow_address: Callable[[IpAddress], bool] | None = None,
        max_body: int = DEFAULT_MAX_BODY,
        idle_timeout: float = IDLE_TIMEOUT_S,
        max_idle_per_host: int = MAX_IDLE_PER_HOST,
    ) -> None:
        self.verify_tls = verify_tls
        self.allow_address = allow_address
        self.max_body = max_body
        self.idle_timeout = idle_timeout
        self.max_idle_per_host = max_idle_per_host
        self._idle: dict[PoolKey, list[_Connection]] = {}
        self._ssl: ssl.SSLContext | None = None
        self._closed = False

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            if self.verify_tls:
                context = ssl.create_default_context()
            else:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            context.set_alpn_protocols(["http/1.1"])
            self._ssl = context
        return self._ssl

    async def request(
        self,
        method: str,
        host: str,
        port: int,
        target: str,
        *,
        tls: bool = True,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        body: bytes | None = None,
        host_header: str | None = None,
        server_hostname: str | None = None,
        timeout: float = 60.0,
        max_body: int | None = None,
    ) -> HttpResponse:
        """Send one request to ``host:port`` and read the whole response.

        ``target`` is the request-target (``/path?query``, already percent-encoded);
        ``host_header`` defaults to ``host[:port]``; ``server_hostname`` (TLS: SNI and the
        name the certificate must match) defaults to ``host``. Raises ``HttpClientError``.
        """
        if self._closed:
            raise HttpClientError("the HTTP client is closed")
        host = host.strip("[]")
        name = server_hostname if server_hostname is not None else host
        if host_header is None:
            bracketed = f"[{host}]" if ":" in host else host
            default_port = 443 if tls else 80
            host_header = bracketed if port == default_port else f"{bracketed}:{port}"
        encoded = self._encode(method, target, host_header, headers, body)
        key: PoolKey = (host, port, tls, name if tls else None)
        limit = self.max_body if max_body is None else max_body
        try:
            async with asyncio.timeout(timeout):
                while True:
                    conn = self._take_idle(key)
                    reused = conn is not None
                    if conn is None:
                        conn = await self._connect(host, port, tls, name)
                    try:
                        response = await conn.exchange(encoded, limit)
                    except _Stale:
                        conn.close()
                        if reused:
                            continue  # the server dropped an idle connection: a new one
                        raise HttpClientError("the server closed the connection") from None
                    except BaseException:
                        conn.close()
                        raise
                    break
        except TimeoutError:
            raise HttpTimeout(f"no response from {host}:{port} within {timeout} s") from None
        if conn.keep_alive and not self._closed:
            self._put_idle(key, conn)
        else:
            conn.close()
        return response

    @staticmethod
    def _encode(
        method: str,
        target: str,
        host_header: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        body: bytes | None,
    ) -> bytes:
        _check_token(method, "the method")
        _check_token(target, "the request target")
        if not target.startswith("/") or " " in target:
            raise ValueError(f"the request target must be an encoded path: {target!r}")
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host_header}"]
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        names = set()
        for field, value in pairs:
            _check_token(field, "a header name")
            _check_token(value, "a header value")
            names.add(field.lower())
            lines.append(f"{field}: {value}")
        if "user-agent" not in names:
            lines.append(f"User-Agent: {USER_AGENT}")
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + body if body else head

    async def _addresses(self, host: str, port: int) -> list[str]:
        try:
            literal: IpAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            candidates = [literal]
        else:
            loop = asyncio.get_running_loop()
            try:
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as exc:
                raise ConnectFailed(f"cannot resolve {host}: {exc}") from None
            candidates = list(
                dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos)
            )
        if self.allow_address is not None:
            allowed = [ip for ip in candidates if self.allow_address(ip)]
            if not allowed:
                listed = ", ".join(str(ip) for ip in candidates)
                raise AddressRefused(
                    f"refusing to connect to {host} ({listed}): not a public address"
                )
            candidates = allowed
        return [str(ip) for ip in candidates]

    async def _connect(self, host: str, port: int, tls: bool, name: str) -> _Connection:
        loop = asyncio.get_running_loop()
        errors: list[str] = []
        for address in await self._addresses(host, port):
            conn = _Connection(loop)
            try:
                await loop.create_connection(
                    _factory(conn),
                    address,
                    port,
                    ssl=self._ssl_context() if tls else None,
                    server_hostname=name if tls else None,
                )
            except (OSError, ssl.SSLError) as exc:
                errors.append(f"{address}: {exc}")
                continue
            return conn
        raise ConnectFailed(f"cannot connect to {host}:{port}: {'; '.join(errors)}")

    def _take_idle(self, key: PoolKey) -> _Connection | None:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if conn.idle_timer is not None:
                conn.idle_timer.cancel()
                conn.idle_timer = None
            if not conn.closed:
                return conn
        return None

    def _put_idle(self, key: PoolKey, conn: _Connection) -> None:
        idle = self._idle.setdefault(key, [])
        idle[:] = [c for c in idle if not c.closed]
        if len(idle) >= self.max_idle_per_host:
            conn.close()
            return
        conn.idle_timer = conn.loop.call_later(self.idle_timeout, conn.close)
        idle.append(conn)

    def idle_connections(self) -> int:
        """Open connections waiting in the pool (for tests and metrics)."""
        return sum(1 for idle in self._idle.values() for c in idle if not c.closed)

    async def close(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports finish closing
