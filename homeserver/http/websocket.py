"""WebSocket server side (RFC 6455): the opening handshake, frames, and the closing
handshake, without extensions (none is offered, so ``RSV`` bits must be zero).

``ws = WebSocketResponse(); await ws.prepare(request)`` answers ``101 Switching
Protocols`` and takes over the connection; ``async for message in ws`` yields text and
binary messages until the peer closes. Pings are answered; with ``heartbeat`` the
server pings on its own and drops a peer that does not answer in half that time.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import enum
import hashlib
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import HTTPBadRequest
from .headers import Headers
from .response import StreamResponse, head_bytes

if TYPE_CHECKING:
    from .connection import HttpProtocol
    from .request import Request

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
_CLOSE_TIMEOUT_S = 5.0


class WSMsgType(enum.IntEnum):
    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


class WSCloseCode(enum.IntEnum):
    OK = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    INVALID_TEXT = 1007
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011


@dataclass(frozen=True)
class WSMessage:
    type: WSMsgType
    data: str | bytes
    extra: str = ""


class _ProtocolError(Exception):
    def __init__(self, code: WSCloseCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key`` (RFC 6455 §4.2.2)."""
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + _GUID).digest()).decode()


def _valid_key(key: str) -> bool:
    """A base64-encoded 16-byte nonce (RFC 6455 §4.1)."""
    try:
        return len(base64.b64decode(key.encode("ascii"), validate=True)) == 16
    except ValueError:
        return False


def _valid_close_code(code: int) -> bool:
    """A code a Close frame may carry (RFC 6455 §7.4): 1000-1003 and 1007-1014 are
    assigned (1004 reserved; 1005, 1006, 1015 never sent), 3000-4999 registered or
    private; the rest of 0-2999 is unassigned or unused."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def _unmask(payload: bytes, mask: bytes) -> bytes:
    length = len(payload)
    if not length:
        return payload
    repeated = (mask * (length // 4 + 1))[:length]
    value = int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")
    return value.to_bytes(length, "little")


def frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked, final frame (servers never mask; RFC 6455 §5.1)."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, length)
    return header + payload


class WebSocketResponse(StreamResponse):
    def __init__(self, *, heartbeat: float | None = None, max_msg_size: int = 4 * 1024**2):
        super().__init__(status=101)
        self.heartbeat = heartbeat
        self.max_msg_size = max_msg_size
        self.close_code: int | None = None
        self._protocol: HttpProtocol | None = None
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._fragment_type: WSMsgType | None = None
        self._fragment_size = 0
        self._messages: asyncio.Queue[WSMessage | None] = asyncio.Queue()
        self._close_sent = False
        self._close_received = asyncio.Event()
        self._closed = False
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._pong = asyncio.Event()

    @property
    def upgraded(self) -> bool:
        return self._protocol is not None

    @property
    def closed(self) -> bool:
        return self._closed or self._close_sent

    async def prepare(self, request: Request) -> None:
        if self._protocol is not None:
            return
        headers = request.headers
        connection = {t.strip().lower() for t in (headers.get("Connection") or "").split(",")}
        key = headers.get("Sec-WebSocket-Key") or ""
        if (
            request.method != "GET"
            or (headers.get("Upgrade") or "").lower() != "websocket"
            or "upgrade" not in connection
            or headers.get("Sec-WebSocket-Version") != "13"
            or not _valid_key(key)
        ):
            raise HTTPBadRequest("not a WebSocket handshake")
        protocol = request.protocol
        if protocol is None:
            raise RuntimeError("the request has no connection")
        response_headers = Headers(
            {
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Accept": accept_key(key),
            }
        )
        protocol.write_head(head_bytes(101, response_headers, True, "1.1"))
        self._protocol = protocol
        pending = protocol.upgrade(self)
        if pending:
            self.feed_data(pending)
        if self.heartbeat:
            self._heartbeat_task = asyncio.get_running_loop().create_task(self._beat())

    # -- input --------------------------------------------------------------------------

    def feed_data(self, data: bytes) -> None:
        if self._closed:
            return
        self._buffer += data
        try:
            while self._parse_one():
                pass
        except _ProtocolError as exc:
            self._fail(exc.code, str(exc))

    def _parse_one(self) -> bool:
        buf = self._buffer
        if len(buf) < 2:
            return False
        b0, b1 = buf[0], buf[1]
        fin, rsv, opcode = b0 & 0x80, b0 & 0x70, b0 & 0x0F
        masked, length = b1 & 0x80, b1 & 0x7F
        pos = 2
        if length == 126:
            if len(buf) < 4:
                return False
            length = struct.unpack_from("!H", buf, 2)[0]
            pos = 4
        elif length == 127:
            if len(buf) < 10:
                return False
            length = struct.unpack_from("!Q", buf, 2)[0]
            pos = 10
        if rsv:
            raise _ProtocolError(WSCloseCode.PROTOCOL_ERROR, "no extension was negotiated")
        if not masked:
            raise _ProtocolError(WSCloseCode.PROTOCOL_ERROR, "client frames must be masked")
        if length > self.max_msg_size:
            raise _ProtocolError(WSCloseCode.MESSAGE_TOO_BIG, "message too big")
        if len(buf) < pos + 4 + length:
            return False
        mask = bytes(buf[pos : pos + 4])
        payload = _unmask(bytes(buf[pos + 4 : pos + 4 + length]), mask)
        del buf[: pos + 4 + length]
        self._on_frame(bool(fin), opcode, payload)
        return True

    def _on_frame(self, fin: bool, opcode: int, payload: bytes) -> None:
        if opcode >= 0x8:
            if not fin or len(payload) > 125:
                raise _ProtocolError(WSCloseCode.PROTOCOL_ERROR, "bad control frame")
            if opcode == WSMsgType.PING:
                self._send_frame(WSMsgType.PONG, payload)
            elif opcode == WSMsgType.PONG:
                self._pong.set()
            elif opcode == WSMsgType.CLOSE:
                self._on_close(payload)
            else:
                raise _ProtocolError(WSCloseCode.PROTOCOL_ERROR, "unknown opcode")
            return
        if opcode == WSMsgType.CONTINUATION:
            if self._fragment_type is None:
                raise _ProtocolError(WSCloseCode.PROTOCOL_ERROR, "nothing to continue")
        elif opcode in (WSMsgType.TEXT, WSMsgType.BINARY):
            if self._fragment_type is not None:
                raise _ProtocolError(WSCloseCode.PROTOCOL_ERROR, "expected a continuation")
            self._fragment_type = WSMsgType(opcode)
        else:
            raise _ProtocolError(WSCloseCode.PROTOCOL_ERROR, "unknown opcode")
        self._fragment_size += len(payload)
        if self._fragment_size > self.max_msg_size:
            raise _ProtocolError(WSCloseCode.MESSAGE_TOO_BIG, "message too big")
        self._fragments.append(payload)
        if not fin:
            return
        data = b"".join(self._fragments)
        kind = self._fragment_type
        self._fragments, self._fragment_type, self._fragment_size = [], None, 0
        if kind == WSMsgType.TEXT:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise _ProtocolError(WSCloseCode.INVALID_TEXT, "text is not UTF-8") from None
            self._messages.put_nowait(WSMessage(WSMsgType.TEXT, text))
        else:
            self._messages.put_nowait(WSMessage(WSMsgType.BINARY, data))

    def _on_close(self, payload: bytes) -> None:
        code = WSCloseCode.OK.value
        if len(payload) >= 2:
            code = struct.unpack_from("!H", payload)[0]
            if not _valid_close_code(code):
                raise _ProtocolError(WSCloseCode.PROTOCOL_ERROR, "bad close code")
            try:
                payload[2:].decode("utf-8")  # the reason (RFC 6455 §5.5.1)
            except UnicodeDecodeError:
                raise _ProtocolError(WSCloseCode.INVALID_TEXT, "reason is not UTF-8") from None
        elif len(payload) == 1:
            raise _ProtocolError(WSCloseCode.PROTOCOL_ERROR, "bad close frame")
        self.close_code = code
        self._close_received.set()
        if not self._close_sent:
            # RFC 6455 §5.5.1: answer with a Close frame, then the server closes TCP.
            self._send_frame(WSMsgType.CLOSE, struct.pack("!H", code) if len(payload) else b"")
            self._close_sent = True
        self._finish()

    def connection_lost(self) -> None:
        if self.close_code is None:
            self.close_code = 1006  # abnormal closure
        self._close_received.set()
        self._finish()

    def _fail(self, code: WSCloseCode, reason: str) -> None:
        if not self._close_sent:
            payload = struct.pack("!H", code) + reason.encode("utf-8")[:120]
            self._send_frame(WSMsgType.CLOSE, payload)
            self._close_sent = True
        self.close_code = code
        self._finish()

    def _finish(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._messages.put_nowait(None)
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
        if self._protocol is not None:
            self._protocol.close()

    # -- output -------------------------------------------------------------------------

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        if self._protocol is not None and not self._closed:
            self._protocol.write(frame(opcode, payload))

    async def _send(self, opcode: int, payload: bytes) -> None:
        if self._protocol is None:
            raise RuntimeError("send before prepare()")
        if self.closed:
            raise ConnectionResetError("the WebSocket is closed")
        self._send_frame(opcode, payload)
        await self._protocol.drain()

    async def send_str(self, data: str) -> None:
        await self._send(WSMsgType.TEXT, data.encode("utf-8"))

    async def send_bytes(self, data: bytes) -> None:
        await self._send(WSMsgType.BINARY, data)

    async def ping(self, payload: bytes = b"") -> None:
        await self._send(WSMsgType.PING, payload)

    async def close(self, *, code: int = WSCloseCode.OK, message: bytes = b"") -> None:
        """The closing handshake: send Close, wait (briefly) for the peer's Close."""
        if self._protocol is None or self._closed:
            return
        if not self._close_sent:
            self._send_frame(WSMsgType.CLOSE, struct.pack("!H", code) + message[:123])
            self._close_sent = True
            if self.close_code is None:
                self.close_code = code
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._close_received.wait(), _CLOSE_TIMEOUT_S)
        self._finish()

    async def _beat(self) -> None:
        assert self.heartbeat is not None
        while not self.closed:
            await asyncio.sleep(self.heartbeat)
            self._pong.clear()
            self._send_frame(WSMsgType.PING, b"")
            try:
                await asyncio.wait_for(self._pong.wait(), self.heartbeat / 2)
            except TimeoutError:
                self.close_code = 1006
                self._finish()  # the peer is gone: drop the connection
                return

    # -- messages -----------------------------------------------------------------------

    async def receive(self) -> WSMessage:
        """The next text or binary message; a ``CLOSE`` message once the peer is gone."""
        message = await self._messages.get()
        if message is None:
            self._messages.put_nowait(None)  # every later call sees the end too
            return WSMessage(WSMsgType.CLOSE, b"", str(self.close_code or ""))
        return message

    def __aiter__(self) -> WebSocketResponse:
        return self

    async def __anext__(self) -> WSMessage:
        message = await self.receive()
        if message.type == WSMsgType.CLOSE:
            raise StopAsyncIteration
        return message

    async def write_eof(self) -> None:
        await self.close()
