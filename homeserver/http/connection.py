"""One HTTP/1.1 connection (RFC 9112), requests parsed by llhttp through ``httptools``.

A connection serves its requests one at a time, in order (pipelined requests wait in a
queue; reading pauses when it grows). A request is handed to the application once its
body is complete, or at once when the declared body is over the limit: that request
answers 413 and the connection closes without reading the body.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING

import httptools

from .errors import HTTPException
from .headers import Headers
from .request import Request
from .response import Response

if TYPE_CHECKING:
    from .server import Server
    from .websocket import WebSocketResponse

log = logging.getLogger(__name__)

KEEPALIVE_S = 75.0  # idle keep-alive connections are closed after this
READ_TIMEOUT_S = 60.0  # a request's head and body must arrive within this
MAX_URL_BYTES = 16 * 1024  # `/sync?filter=<inline JSON>` can be long
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADER_FIELDS = 128
MAX_QUEUED = 16  # pipelined requests waiting before reading pauses

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class _Refuse(Exception):
    """A request the connection answers itself, then closes."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _target_path(url: str) -> str:
    """The path of a request-target, still percent-encoded."""
    path = url.partition("?")[0].partition("#")[0]
    if not path.startswith("/"):
        # Absolute form (RFC 9112 §3.2.2): keep the path only.
        after_scheme = path.partition("://")[2]
        path = "/" + after_scheme.partition("/")[2] if after_scheme else "/"
    return path


class HttpProtocol(asyncio.Protocol):
    def __init__(self, server: Server) -> None:
        self.server = server
        self.app = server.app
        self.loop = server.loop
        self.transport: asyncio.Transport | None = None
        self.remote: str | None = None
        self.closed = False
        self._parser = httptools.HttpRequestParser(self)
        self._url: list[bytes] = []
        self._url_bytes = 0
        self._headers: list[tuple[str, str]] = []
        self._header_bytes = 0
        self._body: list[bytes] = []
        self._body_bytes = 0
        self._body_too_large = False
        self._body_limit = server.app.client_max_size  # the current request's route's
        self._discard = False  # after an early 413: ignore the rest of the input
        self._queue: deque[Request] = deque()
        self._task: asyncio.Task[None] | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._idle_timer: asyncio.TimerHandle | None = None
        self._reading_head = True
        self._head_bytes = 0
        self._upgrading = False
        self._upgrade_buffer = bytearray()
        self._websocket: WebSocketResponse | None = None
        self._head_sent = False
        self._refusal: _Refuse | None = None  # to send once earlier requests are answered
        self._peer_done = False  # the peer half-closed: close once its requests are answered
        self._continue_pending = False  # a 100 (Continue) to send after earlier responses
        self.stopping = False

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and peer:
            self.remote = str(peer[0])
        elif isinstance(peer, str):
            self.remote = peer
        self.server.connections.add(self)
        self._arm_idle_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        self._cancel_idle_timer()
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_exception(ConnectionResetError("the connection was lost"))
        self._drain_waiters.clear()
        if self._websocket is not None:
            self._websocket.connection_lost()

    def data_received(self, data: bytes) -> None:
        if self._websocket is not None:
            self._websocket.feed_data(data)
            return
        if self._upgrading:
            self._upgrade_buffer += data
            return
        if self._discard:
            return
        if self._reading_head:
            self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
            if self._reading_head and self._head_bytes > MAX_URL_BYTES + MAX_HEADER_BYTES:
                # httptools holds a header field until it ends: a head still unfinished
                # past the limits is refused as it arrives, whatever its shape.
                self._refuse(431, "Request Header Fields Too Large")
        except httptools.HttpParserUpgrade as upgrade:
            self._upgrading = True
            self._upgrade_buffer += data[upgrade.args[0] :]
        except _Refuse as refusal:
            self._refuse(refusal.status, refusal.reason)
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, _Refuse):
                self._refuse(cause.status, cause.reason)
            else:
                self._refuse(400, "Bad Request")
        except httptools.HttpParserError:
            self._refuse(400, "Bad Request")

    def eof_received(self) -> bool | None:
        if self.busy and self._websocket is None and not self._upgrading:
            # A half-close (RFC 9293 §3.6): the peer still reads what it asked for.
            self._peer_done = True
            return True
        return None  # close our side too

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._drain_waiters.clear()

    # -- httptools callbacks ------------------------------------------------------------

    def on_message_begin(self) -> None:
        # From here the whole request must arrive in time (a trickling client is dropped).
        self._arm_timer(READ_TIMEOUT_S)
        self._reading_head = True
        self._url = []
        self._url_bytes = 0
        self._headers = []
        self._header_bytes = 0
        self._body = []
        self._body_bytes = 0
        self._body_too_large = False

    def on_url(self, url: bytes) -> None:
        self._url_bytes += len(url)
        if self._url_bytes > MAX_URL_BYTES:
            raise _Refuse(414, "URI Too Long")
        self._url.append(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > MAX_HEADER_BYTES or len(self._headers) >= MAX_HEADER_FIELDS:
            raise _Refuse(431, "Request Header Fields Too Large")
        # llhttp drops the whitespace before a value, not after (RFC 9112 §5.1: neither is
        # part of the value).
        self._headers.append((name.decode("latin-1"), value.decode("latin-1").rstrip(" \t")))

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._head_bytes = 0
        version = self._parser.get_http_version()
        if version not in ("1.0", "1.1"):
            # llhttp takes a request-line without a version as HTTP/0.9 (RFC 9112 §3: an
            # invalid request-line) and parses HTTP/2.0 (RFC 9110 §15.6.6: 505).
            if version.startswith("0."):
                raise _Refuse(400, "Bad Request")
            raise _Refuse(505, "HTTP Version Not Supported")
        names = [name.lower() for name, _ in self._headers]
        if version == "1.1" and names.count("host") != 1:
            # RFC 9112 §3.2: no Host, or more than one, MUST be answered 400.
            raise _Refuse(400, "Bad Request")
        limit = self.app.client_max_size
        if self.app.router.has_body_limits:
            # Some routes take larger bodies (media uploads): this request's route says.
            url = b"".join(self._url).decode("latin-1")
            method = self._parser.get_method().decode("ascii")
            limit = self.app.body_limit(method, _target_path(url))
        self._body_limit = limit
        expect_continue = False
        for lower, (_, value) in zip(names, self._headers, strict=True):
            if lower == "content-length" and value.isdigit() and int(value) > limit:
                # Answered now (413 through the application), body never read; RFC 9110
                # §10.1.1: a final status instead of 100 (Continue).
                self._body_too_large = True
                self._discard = True
                self._enqueue(keep_alive=False)
                raise _Refuse(0, "early 413")
            if lower == "expect" and value.lower() == "100-continue":
                expect_continue = True
        # RFC 9110 §10.1.1: an HTTP/1.0 request's 100-continue MUST be ignored.
        if expect_continue and version == "1.1":
            if self.busy:
                # Not inside an earlier response: after it (RFC 9112 §9.3.2).
                self._continue_pending = True
            else:
                self.write(_CONTINUE)

    def on_body(self, body: bytes) -> None:
        if self._body_too_large:
            return
        self._body_bytes += len(body)
        if self._body_bytes > self._body_limit:
            self._body_too_large = True
            self._body = []
            self._discard = True
            self._enqueue(keep_alive=False)
            raise _Refuse(0, "early 413")
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._cancel_idle_timer()
        upgrade = self._parser.should_upgrade()
        self._enqueue(keep_alive=self._parser.should_keep_alive() and not upgrade)

    # -- requests -----------------------------------------------------------------------

    def _enqueue(self, *, keep_alive: bool) -> None:
        url = b"".join(self._url).decode("latin-1")
        path, query = _target_path(url), url.partition("?")[2]
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        self._continue_pending = False  # the content came without it
        request = Request(
            method=self._parser.get_method().decode("ascii"),
            raw_path=path,
            query_string=query,
            headers=Headers.received(self._headers),
            version=self._parser.get_http_version(),
            body=body,
            body_too_large=self._body_too_large,
            keep_alive=keep_alive and not self.stopping,
            remote=self.remote,
            app=self.app,
            protocol=self,
        )
        self._queue.append(request)
        if len(self._queue) > MAX_QUEUED and self.transport and not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()
        if self._task is None:
            self._task = self.loop.create_task(self._serve())

    async def _serve(self) -> None:
        try:
            while self._queue and not self.closed:
                request = self._queue.popleft()
                if self._reading_paused and len(self._queue) <= MAX_QUEUED // 2:
                    self._reading_paused = False
                    if self.transport is not None:
                        self.transport.resume_reading()
                await self._respond(request)
                if self._websocket is not None or self._upgrading:
                    self.close()
                    return
                if not request.keep_alive:
                    self.close()
                    return
        finally:
            self._task = None
        if not self.closed:
            if self._refusal is not None:
                self._send_refusal(self._refusal)
            elif self.stopping or self._peer_done:
                self.close()
            else:
                if self._continue_pending:
                    self._continue_pending = False
                    self.write(_CONTINUE)
                self._arm_idle_timer()

    async def _respond(self, request: Request) -> None:
        self._head_sent = False
        try:
            response = await self.app.handle(request)
        except HTTPException as exc:
            if self._head_sent:
                self.close()  # too late for this status: the body ends unfinished
                return
            response = Response(status=exc.status, text=exc.reason, headers=exc.headers)
        except (ConnectionError, asyncio.CancelledError):
            if self.closed:
                return
            raise
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.raw_path)
            if self._head_sent:
                self.close()
                return
            response = Response(status=500, text="Internal Server Error")
        if self.closed:
            return
        try:
            if response.upgraded:
                return
            if isinstance(response, Response) and not response.prepared:
                self.write(response.encode(request))
            else:
                await response.prepare(request)  # when the handler did not
                await response.write_eof()
            await self.drain()
        except ConnectionError:
            return

    # -- output -------------------------------------------------------------------------

    def write_head(self, head: bytes) -> None:
        self._head_sent = True
        self.write(head)

    def write(self, data: bytes) -> None:
        if not self.closed and self.transport is not None:
            self.transport.write(data)

    async def drain(self) -> None:
        if self.closed:
            raise ConnectionResetError("the connection was lost")
        if not self._writing_paused:
            return
        waiter: asyncio.Future[None] = self.loop.create_future()
        self._drain_waiters.append(waiter)
        await waiter

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def upgrade(self, websocket: WebSocketResponse) -> bytes:
        """Hand the connection to ``websocket``; returns what already arrived for it."""
        self._websocket = websocket
        self._upgrading = False
        pending = bytes(self._upgrade_buffer)
        self._upgrade_buffer.clear()
        return pending

    @property
    def busy(self) -> bool:
        return self._task is not None or bool(self._queue)

    # -- timers -------------------------------------------------------------------------

    def _arm_idle_timer(self) -> None:
        self._arm_timer(KEEPALIVE_S)

    def _arm_timer(self, seconds: float) -> None:
        self._cancel_idle_timer()
        self._idle_timer = self.loop.call_later(seconds, self.close)

    def _cancel_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _refuse(self, status: int, reason: str) -> None:
        """Answer a request the parser refused (an early 413 is already queued), close."""
        self._discard = True
        if not status:
            return
        if self.busy:
            # Earlier requests are still being answered: refuse after them, in order
            # (RFC 9112 §9.3.2).
            self._refusal = _Refuse(status, reason)
        else:
            self._send_refusal(_Refuse(status, reason))

    def _send_refusal(self, refusal: _Refuse) -> None:
        text = refusal.reason.encode("latin-1")
        self.write(
            b"HTTP/1.1 %d %b\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%b"
            % (refusal.status, text, len(text), text)
        )
        self.close()
