"""Raw-socket helpers for protocol-level tests: bytes go out, bytes come back, and every
wait is bounded by ``TIMEOUT``.

``RawConnection.read_response`` frames a response the way RFC 9112 §6.3 says a client
must: no body for HEAD, 1xx, 204 and 304; chunked when ``Transfer-Encoding`` ends in
``chunked``; ``Content-Length`` octets otherwise; or everything up to the close.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import struct
from collections.abc import Awaitable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TypeVar

TIMEOUT = 5.0

T = TypeVar("T")


async def bounded(awaitable: Awaitable[T]) -> T:
    """``awaitable``, failing the test after ``TIMEOUT`` seconds."""
    return await asyncio.wait_for(awaitable, TIMEOUT)


@dataclass
class RawResponse:
    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    raw_body: bytes = b""  # as it was on the wire (chunk framing included)
    trailers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        values = self.header_all(name)
        return ", ".join(values) if values else None

    def header_all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


class RawConnection:
    """One TCP connection to the server under test."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> RawConnection:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, limit=4 * 1024**2), TIMEOUT
        )
        return cls(reader, writer)

    async def __aenter__(self) -> RawConnection:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, TimeoutError):
            await asyncio.wait_for(self.writer.wait_closed(), TIMEOUT)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await asyncio.wait_for(self.writer.drain(), TIMEOUT)

    async def readexactly(self, n: int) -> bytes:
        return await asyncio.wait_for(self.reader.readexactly(n), TIMEOUT)

    async def readline(self) -> bytes:
        return await asyncio.wait_for(self.reader.readuntil(b"\r\n"), TIMEOUT)

    async def read_head(self) -> RawResponse:
        """The status line and header section of the next response."""
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        lines = head[:-4].decode("latin-1").split("\r\n")
        version, status, reason = [*lines[0].split(" ", 2), ""][:3]
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name, value.strip()))
        return RawResponse(version, int(status), reason, headers)

    async def read_response(self, *, head: bool = False) -> RawResponse:
        """The next response, its body framed per RFC 9112 §6.3 (``head``: it answers a
        HEAD request, so it has no body whatever its header fields say)."""
        response = await self.read_head()
        status = response.status
        if head or 100 <= status < 200 or status in (204, 304):
            return response
        encoding = (response.header("Transfer-Encoding") or "").lower()
        if encoding.endswith("chunked"):
            await self.read_chunked_body(response)
        elif response.header("Content-Length") is not None:
            length = int(response.header("Content-Length") or "0")
            response.body = response.raw_body = await self.readexactly(length)
        else:
            response.body = response.raw_body = await self.read_until_closed()
        return response

    async def read_chunked_body(self, response: RawResponse) -> None:
        body, raw = [], []
        while True:
            size_line = await self.readline()
            raw.append(size_line)
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                break
            chunk = await self.readexactly(size + 2)
            assert chunk.endswith(b"\r\n"), chunk[-10:]
            raw.append(chunk)
            body.append(chunk[:-2])
        while True:  # trailer section, up to an empty line
            line = await self.readline()
            raw.append(line)
            if line == b"\r\n":
                break
            name, _, value = line.decode("latin-1").partition(":")
            response.trailers.append((name, value.strip()))
        response.body = b"".join(body)
        response.raw_body = b"".join(raw)

    async def read_until_closed(self) -> bytes:
        """Everything until the server closes (a reset counts as a close)."""
        chunks = []
        try:
            while True:
                chunk = await asyncio.wait_for(self.reader.read(65536), TIMEOUT)
                if not chunk:
                    break
                chunks.append(chunk)
        except ConnectionResetError:
            pass
        return b"".join(chunks)

    async def expect_closed(self) -> None:
        """The server closes the connection without sending anything more."""
        rest = await self.read_until_closed()
        assert rest == b"", f"unexpected bytes before the close: {rest[:200]!r}"

    async def expect_open(self, wait: float = 0.3) -> None:
        """Nothing arrives and the connection stays open for ``wait`` seconds."""
        try:
            data = await asyncio.wait_for(self.reader.read(1), wait)
        except TimeoutError:
            return
        raise AssertionError(f"expected an open, quiet connection, got {data!r}")


def request(
    method: str,
    target: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    version: str = "1.1",
) -> bytes:
    """One request message; ``Host`` and (with a body) ``Content-Length`` by default."""
    fields = {"Host": "127.0.0.1"}
    if body:
        fields["Content-Length"] = str(len(body))
    fields.update(headers or {})
    head = f"{method} {target} HTTP/{version}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in fields.items())
    return head.encode("latin-1") + b"\r\n" + body


# -- WebSocket (RFC 6455) ------------------------------------------------------------------

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def ws_key() -> str:
    return base64.b64encode(os.urandom(16)).decode()


def ws_handshake(path: str, key: str, extra: dict[str, str] | None = None) -> bytes:
    headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": key,
        "Sec-WebSocket-Version": "13",
    }
    headers.update(extra or {})
    return request("GET", path, headers=headers)


def client_frame(
    opcode: int, payload: bytes = b"", *, fin: bool = True, mask: bool = True, rsv: int = 0
) -> bytes:
    """A client frame (RFC 6455 §5.2), masked unless told otherwise (§5.3)."""
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    length = len(payload)
    mask_bit = 0x80 if mask else 0
    if length < 126:
        header = struct.pack("!BB", first, mask_bit | length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, length)
    if not mask:
        return header + payload
    key = os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return header + key + masked


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason


@dataclass
class Frame:
    fin: bool
    opcode: int
    payload: bytes

    @property
    def close_code(self) -> int | None:
        assert self.opcode == OP_CLOSE
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None


async def read_frame(conn: RawConnection) -> Frame:
    """The next server frame; servers never mask (RFC 6455 §5.1)."""
    b0, b1 = await conn.readexactly(2)
    assert not b1 & 0x80, "a server frame is masked"
    assert not b0 & 0x70, "RSV bits set without an extension"
    length = b1 & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await conn.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await conn.readexactly(8))
    payload = await conn.readexactly(length) if length else b""
    return Frame(bool(b0 & 0x80), b0 & 0x0F, payload)
