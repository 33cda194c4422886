"""Responses: ``Response`` (a whole body) and ``StreamResponse`` (a body written in parts,
with ``Content-Length`` when the handler sets it, chunked otherwise; RFC 9112 §6-7)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING

from .headers import Headers

if TYPE_CHECKING:
    from .request import Request

_REASONS = {status.value: status.phrase for status in HTTPStatus}

_date_second = -1
_date_text = ""


def http_date() -> str:
    """The ``Date`` field (RFC 9110 §5.6.7), recomputed at most once a second."""
    global _date_second, _date_text
    now = int(time.time())
    if now != _date_second:
        _date_second = now
        _date_text = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now))
    return _date_text


def status_line(status: int) -> str:
    return f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}\r\n"


def head_bytes(status: int, headers: Headers, keep_alive: bool, version: str) -> bytes:
    parts = [status_line(status)]
    for name, value in headers.fields():
        parts.append(f"{name}: {value}\r\n")
    parts.append(f"Date: {http_date()}\r\nServer: Concord\r\n")
    if not keep_alive:
        parts.append("Connection: close\r\n")
    elif version == "1.0":
        parts.append("Connection: keep-alive\r\n")
    parts.append("\r\n")
    return "".join(parts).encode("latin-1")


class StreamResponse:
    """A response whose body the handler writes after ``await prepare(request)``."""

    def __init__(
        self,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
    ) -> None:
        self.status = status
        self.headers = Headers(headers or {})
        if content_type is not None:
            self.headers["Content-Type"] = content_type
        self._request: Request | None = None
        self._chunked = False
        self._eof = False

    @property
    def prepared(self) -> bool:
        return self._request is not None

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("Content-Length")
        return int(value) if value is not None else None

    @content_length.setter
    def content_length(self, length: int) -> None:
        self.headers["Content-Length"] = str(length)

    async def prepare(self, request: Request) -> None:
        """Send the status line and header fields."""
        if self._request is not None:
            return
        protocol = request.protocol
        if protocol is None:
            raise RuntimeError("the request has no connection")
        self._request = request
        if "Content-Length" not in self.headers:
            if request.version == "1.1":
                self._chunked = True
                self.headers["Transfer-Encoding"] = "chunked"
            else:
                request.keep_alive = False  # HTTP/1.0: the body ends when we close
        head = head_bytes(self.status, self.headers, request.keep_alive, request.version)
        protocol.write_head(head)
        await protocol.drain()

    async def write(self, data: bytes) -> None:
        request = self._request
        if request is None or request.protocol is None:
            raise RuntimeError("write() before prepare()")
        if not data or request.method == "HEAD":
            return
        if self._chunked:
            request.protocol.write(b"%x\r\n%b\r\n" % (len(data), data))
        else:
            request.protocol.write(data)
        await request.protocol.drain()

    async def write_eof(self) -> None:
        if self._eof:
            return
        self._eof = True
        request = self._request
        if request is not None and request.protocol is not None and self._chunked:
            if request.method != "HEAD":
                request.protocol.write(b"0\r\n\r\n")
            await request.protocol.drain()

    @property
    def upgraded(self) -> bool:
        """True when the connection now speaks another protocol (WebSocket)."""
        return False


class Response(StreamResponse):
    """A response with its whole body known up front."""

    def __init__(
        self,
        *,
        status: int = 200,
        body: bytes | None = None,
        text: str | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status=status, headers=headers)
        if text is not None:
            body = text.encode("utf-8")
            if content_type is None:
                content_type = "text/plain; charset=utf-8"
            elif "charset" not in content_type:
                content_type += "; charset=utf-8"
        self.body = body or b""
        if content_type is not None:
            self.headers["Content-Type"] = content_type
        elif body is not None and "Content-Type" not in self.headers:
            self.headers["Content-Type"] = "application/octet-stream"

    def encode(self, request: Request) -> bytes:
        """Head and body, as one write."""
        body = self.body
        no_body = self.status == 204 or self.status == 304 or 100 <= self.status < 200
        if not no_body:
            self.headers["Content-Length"] = str(len(body))
        head = head_bytes(self.status, self.headers, request.keep_alive, request.version)
        if no_body or request.method == "HEAD":
            return head
        return head + body

    async def prepare(self, request: Request) -> None:
        if self.prepared:
            return
        self.headers["Content-Length"] = str(len(self.body))
        await super().prepare(request)
        await self.write(self.body)
        self._eof = True
