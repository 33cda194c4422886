"""WebSocket server side (RFC 6455): the opening handshake, data and control frames, the
closing handshake, and the heartbeat."""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass, field

import aiohttp
import pytest

from homeserver.http import web
from homeserver.http.websocket import accept_key
from tests.support.http_client import ServeApp

from .raw import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    TIMEOUT,
    RawConnection,
    bounded,
    client_frame,
    close_payload,
    read_frame,
    request,
    ws_handshake,
    ws_key,
)

MAX_MSG = 1024
RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3 / §4.2.2
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@dataclass
class Record:
    """What the server-side handlers saw."""

    messages: list[tuple[str, str | bytes]] = field(default_factory=list)
    close_codes: list[int | None] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)


def ws_app(record: Record) -> web.Application:
    async def echo(req: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=MAX_MSG)
        await ws.prepare(req)
        async for message in ws:
            record.messages.append((message.type.name, message.data))
            if message.type == web.WSMsgType.TEXT:
                assert isinstance(message.data, str)
                if message.data == "close-me":
                    await ws.close(code=4000, message=b"bye")
                    break
                await ws.send_str(message.data)
            else:
                assert isinstance(message.data, bytes)
                await ws.send_bytes(message.data)
        record.close_codes.append(ws.close_code)
        record.ended.set()
        return ws

    async def big(req: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=256 * 1024)
        await ws.prepare(req)
        async for message in ws:
            assert isinstance(message.data, bytes)
            await ws.send_bytes(message.data[::-1])
        return ws

    async def push(req: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(req)
        await ws.send_str("welcome")
        await ws.send_bytes(b"\x00\x01")
        async for _ in ws:
            pass
        record.close_codes.append(ws.close_code)
        record.ended.set()
        return ws

    async def heartbeat(req: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=0.2)
        await ws.prepare(req)
        async for message in ws:
            record.messages.append((message.type.name, message.data))
        record.close_codes.append(ws.close_code)
        record.ended.set()
        return ws

    app = web.Application()
    app.add_routes(
        [
            web.get("/ws", echo),
            web.get("/big", big),
            web.get("/push", push),
            web.get("/heartbeat", heartbeat),
        ]
    )
    return app


async def open_ws(port: int, path: str = "/ws", first: bytes = b"") -> RawConnection:
    """A raw connection past the opening handshake (``first``: sent along with it)."""
    conn = await RawConnection.open(port)
    key = ws_key()
    await conn.send(ws_handshake(path, key) + first)
    response = await conn.read_head()
    assert response.status == 101, response
    assert response.header("Sec-WebSocket-Accept") == accept_key(key)
    return conn


async def expect_close(conn: RawConnection, code: int) -> None:
    """The server sends Close with ``code``, then closes the TCP connection (§7.1.1)."""
    frame = await read_frame(conn)
    while frame.opcode in (OP_PING, OP_PONG):
        frame = await read_frame(conn)
    assert frame.opcode == OP_CLOSE, frame
    assert frame.close_code == code, frame.payload
    await conn.expect_closed()


# -- the opening handshake (§4.2) -----------------------------------------------------------


def test_accept_key_of_the_rfc_example() -> None:
    assert accept_key(RFC_KEY) == RFC_ACCEPT


async def test_handshake_response(serve_app: ServeApp) -> None:
    record = Record()
    client = await serve_app(ws_app(record))
    async with await RawConnection.open(client.port) as conn:
        await conn.send(ws_handshake("/ws", RFC_KEY, {"Connection": "keep-alive, Upgrade"}))
        response = await conn.read_head()
        assert (response.status, response.reason) == (101, "Switching Protocols")
        assert (response.header("Upgrade") or "").lower() == "websocket"
        assert (response.header("Connection") or "").lower() == "upgrade"
        assert response.header("Sec-WebSocket-Accept") == RFC_ACCEPT
        # §9.1: no extension was offered, none may be in use.
        assert response.header("Sec-WebSocket-Extensions") is None
        await conn.send(client_frame(OP_CLOSE, close_payload(1000)))
        await expect_close(conn, 1000)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Sec-WebSocket-Key": None}, id="missing-key"),
        pytest.param({"Sec-WebSocket-Version": "8"}, id="wrong-version"),
        pytest.param({"Sec-WebSocket-Version": None}, id="missing-version"),
        pytest.param(
            {"Sec-WebSocket-Key": base64.b64encode(b"short").decode()}, id="key-not-16-bytes"
        ),
        pytest.param({"Sec-WebSocket-Key": "not base64 at all!"}, id="key-not-base64"),
        pytest.param({"Upgrade": None}, id="missing-upgrade"),
        pytest.param({"Upgrade": "h2c"}, id="other-upgrade"),
        pytest.param({"Connection": "keep-alive"}, id="connection-without-upgrade"),
    ],
)
async def test_bad_handshake_is_400(serve_app: ServeApp, headers: dict[str, str | None]) -> None:
    # §4.2.1: a request missing any of these is refused with an HTTP error (400).
    record = Record()
    client = await serve_app(ws_app(record))
    fields = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": ws_key(),
        "Sec-WebSocket-Version": "13",
    }
    for name, value in headers.items():
        if value is None:
            del fields[name]
        else:
            fields[name] = value
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("GET", "/ws", headers=fields))
        response = await conn.read_response()
        assert response.status == 400
        assert response.header("Sec-WebSocket-Accept") is None
    assert record.messages == []


async def test_handshake_with_aiohttp(serve_app: ServeApp) -> None:
    record = Record()
    client = await serve_app(ws_app(record))
    ws = await bounded(client.ws_connect("/ws"))
    assert not ws.closed
    await bounded(ws.close())


async def test_frames_sent_with_the_handshake_are_not_lost(serve_app: ServeApp) -> None:
    record = Record()
    client = await serve_app(ws_app(record))
    async with await open_ws(client.port, first=client_frame(OP_TEXT, b"early")) as conn:
        frame = await read_frame(conn)
        assert (frame.opcode, frame.payload) == (OP_TEXT, b"early")


# -- data frames (§5.6) ---------------------------------------------------------------------


async def test_text_and_binary_messages_both_ways(serve_app: ServeApp) -> None:
    record = Record()
    client = await serve_app(ws_app(record))
    ws = await bounded(client.ws_connect("/ws"))
    await bounded(ws.send_str("héllo ☃"))
    assert await asyncio.wait_for(ws.receive_str(), TIMEOUT) == "héllo ☃"
    await bounded(ws.send_bytes(b"\x00\xff\x80binary"))
    assert await asyncio.wait_for(ws.receive_bytes(), TIMEOUT) == b"\x00\xff\x80binary"
    await bounded(ws.send_str(""))
    assert await asyncio.wait_for(ws.receive_str(), TIMEOUT) == ""
    await bounded(ws.close())
    await asyncio.wait_for(record.ended.wait(), TIMEOUT)
    assert record.messages == [
        ("TEXT", "héllo ☃"),
        ("BINARY", b"\x00\xff\x80binary"),
        ("TEXT", ""),
    ]


async def test_server_sends_first(serve_app: ServeApp) -> None:
    record = Record()
    client = await serve_app(ws_app(record))
    ws = await bounded(client.ws_connect("/push"))
    assert await asyncio.wait_for(ws.receive_str(), TIMEOUT) == "welcome"
    assert await asyncio.wait_for(ws.receive_bytes(), TIMEOUT) == b"\x00\x01"
    await bounded(ws.close())
    await asyncio.wait_for(record.ended.wait(), TIMEOUT)


@pytest.mark.parametrize("size", [125, 126, 65535, 65536, 200_000])
async def test_payload_length_encodings(serve_app: ServeApp, size: int) -> None:
    # §5.2: 7-bit, 16-bit and 64-bit payload lengths, both ways.
    record = Record()
    client = await serve_app(ws_app(record))
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    async with await open_ws(client.port, "/big") as conn:
        await conn.send(client_frame(OP_BINARY, payload))
        frame = await read_frame(conn)
        assert (frame.fin, frame.opcode, frame.payload) == (True, OP_BINARY, payload[::-1])


async def test_fragmented_message_is_reassembled(serve_app: ServeApp) -> None:
    # §5.4: a message in fragments, with a control frame between them.
    record = Record()
    client = await serve_app(ws_app(record))
    async with await open_ws(client.port) as conn:
        await conn.send(client_frame(OP_TEXT, b"Hel", fin=False))
        await conn.send(client_frame(OP_PING, b"mid", fin=True))
        pong = await read_frame(conn)
        assert (pong.opcode, pong.payload) == (OP_PONG, b"mid")
        await conn.send(client_frame(OP_CONT, b"lo ", fin=False))
        await conn.send(client_frame(OP_CONT, b"world", fin=True))
        frame = await read_frame(conn)
        assert (frame.opcode, frame.payload) == (OP_TEXT, b"Hello world")
        # Binary too, and UTF-8 is only checked on the whole message: "é" split in two.
        await conn.send(
            client_frame(OP_BINARY, b"\x01", fin=False) + client_frame(OP_CONT, b"\x02")
        )
        frame = await read_frame(conn)
        assert (frame.opcode, frame.payload) == (OP_BINARY, b"\x01\x02")
        await conn.send(client_frame(OP_TEXT, b"\xc3", fin=False) + client_frame(OP_CONT, b"\xa9"))
        frame = await read_frame(conn)
        assert (frame.opcode, frame.payload) == (OP_TEXT, "é".encode())
    assert record.messages == [("TEXT", "Hello world"), ("BINARY", b"\x01\x02"), ("TEXT", "é")]


async def test_frames_split_across_reads(serve_app: ServeApp) -> None:
    record = Record()
    client = await serve_app(ws_app(record))
    data = client_frame(OP_TEXT, b"x" * 300) + client_frame(OP_TEXT, b"tail")
    async with await open_ws(client.port) as conn:
        for start in range(0, len(data), 5):
            await conn.send(data[start : start + 5])
            await asyncio.sleep(0)
        assert (await read_frame(conn)).payload == b"x" * 300
        assert (await read_frame(conn)).payload == b"tail"


# -- control frames (§5.5) ------------------------------------------------------------------


async def test_ping_is_answered_with_pong(serve_app: ServeApp) -> None:
    # §5.5.3: the Pong carries the Ping's application data.
    record = Record()
    client = await serve_app(ws_app(record))
    async with await open_ws(client.port) as conn:
        await conn.send(client_frame(OP_PING, b"are you there?"))
        frame = await read_frame(conn)
        assert (frame.fin, frame.opcode, frame.payload) == (True, OP_PONG, b"are you there?")
        await conn.send(client_frame(OP_PING))
        frame = await read_frame(conn)
        assert (frame.opcode, frame.payload) == (OP_PONG, b"")
        # An unsolicited Pong needs no answer (§5.5.3) and the connection carries on.
        await conn.send(client_frame(OP_PONG, b"unasked") + client_frame(OP_TEXT, b"still here"))
        frame = await read_frame(conn)
        assert (frame.opcode, frame.payload) == (OP_TEXT, b"still here")


# -- protocol errors: "fail the WebSocket connection" (§7.1.7) --------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        # §5.1: a server MUST close the connection on an unmasked client frame.
        pytest.param(client_frame(OP_TEXT, b"hi", mask=False), 1002, id="unmasked"),
        # §5.6, §8.1: text that is not UTF-8.
        pytest.param(client_frame(OP_TEXT, b"\xff\xfe"), 1007, id="invalid-utf8"),
        pytest.param(
            client_frame(OP_TEXT, b"ok", fin=False) + client_frame(OP_CONT, b"\xed\xa0\x80"),
            1007,
            id="invalid-utf8-fragmented",  # a UTF-16 surrogate, not UTF-8
        ),
        # §7.4.1 1009: too big to process (MAX_MSG), in one frame or in fragments.
        pytest.param(client_frame(OP_BINARY, b"x" * (MAX_MSG + 1)), 1009, id="too-big"),
        pytest.param(
            client_frame(OP_BINARY, b"x" * 600, fin=False) + client_frame(OP_CONT, b"x" * 600),
            1009,
            id="too-big-fragmented",
        ),
        # §5.2: RSV bits without a negotiated extension.
        pytest.param(client_frame(OP_TEXT, b"hi", rsv=0b100), 1002, id="rsv1"),
        # §5.2: reserved opcodes.
        pytest.param(client_frame(0x3, b"hi"), 1002, id="reserved-data-opcode"),
        pytest.param(client_frame(0xB, b"hi"), 1002, id="reserved-control-opcode"),
        # §5.5: control frames are never fragmented and carry at most 125 bytes.
        pytest.param(client_frame(OP_PING, b"hi", fin=False), 1002, id="fragmented-ping"),
        pytest.param(client_frame(OP_PING, b"x" * 126), 1002, id="long-ping"),
        # §5.4: continuation with nothing to continue, or a new message mid-message.
        pytest.param(client_frame(OP_CONT, b"hi"), 1002, id="lone-continuation"),
        pytest.param(
            client_frame(OP_TEXT, b"a", fin=False) + client_frame(OP_TEXT, b"b"),
            1002,
            id="interleaved-messages",
        ),
        # §5.5.1: a Close body is empty or starts with a two-byte code.
        pytest.param(client_frame(OP_CLOSE, b"\x03"), 1002, id="one-byte-close"),
        # §7.4.1-2: codes never sent in a Close frame, or unassigned.
        pytest.param(client_frame(OP_CLOSE, close_payload(1005)), 1002, id="close-1005"),
        pytest.param(client_frame(OP_CLOSE, close_payload(1006)), 1002, id="close-1006"),
        pytest.param(client_frame(OP_CLOSE, close_payload(1015)), 1002, id="close-1015"),
        pytest.param(client_frame(OP_CLOSE, close_payload(999)), 1002, id="close-999"),
        pytest.param(client_frame(OP_CLOSE, close_payload(1004)), 1002, id="close-1004"),
        pytest.param(client_frame(OP_CLOSE, close_payload(2000)), 1002, id="close-2000"),
        pytest.param(client_frame(OP_CLOSE, close_payload(5000)), 1002, id="close-5000"),
        # §5.5.1: the reason in a Close frame is UTF-8.
        pytest.param(
            client_frame(OP_CLOSE, close_payload(1000, b"\xff")), 1007, id="close-reason-utf8"
        ),
    ],
)
async def test_protocol_errors_fail_the_connection(
    serve_app: ServeApp, data: bytes, code: int
) -> None:
    record = Record()
    client = await serve_app(ws_app(record))
    async with await open_ws(client.port) as conn:
        await conn.send(data)
        await expect_close(conn, code)
    await asyncio.wait_for(record.ended.wait(), TIMEOUT)
    assert record.close_codes == [code]
    assert record.messages == []


async def test_message_at_the_limit_is_accepted(serve_app: ServeApp) -> None:
    record = Record()
    client = await serve_app(ws_app(record))
    async with await open_ws(client.port) as conn:
        await conn.send(client_frame(OP_BINARY, b"x" * MAX_MSG))
        assert (await read_frame(conn)).payload == b"x" * MAX_MSG


async def test_too_big_is_refused_before_the_payload_arrives(serve_app: ServeApp) -> None:
    # The declared length is enough to refuse: the server does not buffer a huge payload.
    record = Record()
    client = await serve_app(ws_app(record))
    async with await open_ws(client.port) as conn:
        await conn.send(client_frame(OP_BINARY, b"x" * 100_000)[:1000])
        await expect_close(conn, 1009)


# -- the closing handshake (§5.5.1, §7) -------------------------------------------------------


@pytest.mark.parametrize("code", [1000, 1001, 3000, 4999])
async def test_client_initiated_close(serve_app: ServeApp, code: int) -> None:
    record = Record()
    client = await serve_app(ws_app(record))
    async with await open_ws(client.port) as conn:
        await conn.send(client_frame(OP_TEXT, b"before"))
        assert (await read_frame(conn)).payload == b"before"
        await conn.send(client_frame(OP_CLOSE, close_payload(code, b"done")))
        # The server echoes the status code (§5.5.1), then closes TCP first (§7.1.1).
        await expect_close(conn, code)
    await asyncio.wait_for(record.ended.wait(), TIMEOUT)
    assert record.messages == [("TEXT", "before")]
    assert record.close_codes == [code]


async def test_client_close_without_a_code(serve_app: ServeApp) -> None:
    record = Record()
    client = await serve_app(ws_app(record))
    async with await open_ws(client.port) as conn:
        await conn.send(client_frame(OP_CLOSE))
        frame = await read_frame(conn)
        # §7.4.1: 1005 is never sent; an empty Close answers an empty Close.
        assert frame.opcode == OP_CLOSE
        assert frame.payload == b""
        await conn.expect_closed()
    await asyncio.wait_for(record.ended.wait(), TIMEOUT)


async def test_client_close_with_aiohttp(serve_app: ServeApp) -> None:
    record = Record()
    client = await serve_app(ws_app(record))
    ws = await bounded(client.ws_connect("/ws"))
    await bounded(ws.send_str("one"))
    assert await asyncio.wait_for(ws.receive_str(), TIMEOUT) == "one"
    await asyncio.wait_for(ws.close(code=4001), TIMEOUT)
    assert ws.close_code == 4001
    await asyncio.wait_for(record.ended.wait(), TIMEOUT)
    assert record.close_codes == [4001]


async def test_server_initiated_close(serve_app: ServeApp) -> None:
    record = Record()
    client = await serve_app(ws_app(record))
    async with await open_ws(client.port) as conn:
        await conn.send(client_frame(OP_TEXT, b"close-me"))
        frame = await read_frame(conn)
        assert frame.opcode == OP_CLOSE
        assert frame.close_code == 4000
        assert frame.payload[2:] == b"bye"
        # The handler waits for our Close before it finishes (§7.1.2).
        await asyncio.sleep(0.1)
        assert not record.ended.is_set()
        await conn.send(client_frame(OP_CLOSE, close_payload(4000)))
        await conn.expect_closed()  # and the server, not the client, closes TCP
    await asyncio.wait_for(record.ended.wait(), TIMEOUT)
    assert record.close_codes == [4000]


async def test_server_initiated_close_with_aiohttp(serve_app: ServeApp) -> None:
    record = Record()
    client = await serve_app(ws_app(record))
    ws = await bounded(client.ws_connect("/ws"))
    await bounded(ws.send_str("close-me"))
    message = await asyncio.wait_for(ws.receive(), TIMEOUT)
    assert message.type == aiohttp.WSMsgType.CLOSE
    assert (message.data, message.extra) == (4000, "bye")
    await asyncio.wait_for(record.ended.wait(), TIMEOUT)
    assert ws.closed


async def test_async_for_ends_when_the_peer_closes(serve_app: ServeApp) -> None:
    record = Record()
    client = await serve_app(ws_app(record))
    ws = await bounded(client.ws_connect("/push"))
    await bounded(ws.close())
    await asyncio.wait_for(record.ended.wait(), TIMEOUT)
    assert record.close_codes == [1000]


async def test_async_for_ends_when_tcp_drops(serve_app: ServeApp) -> None:
    # No Close frame at all: the connection is closed abnormally (§7.1.5: 1006).
    record = Record()
    client = await serve_app(ws_app(record))
    conn = await open_ws(client.port)
    await conn.send(client_frame(OP_TEXT, b"x"))
    await read_frame(conn)
    await conn.close()
    await asyncio.wait_for(record.ended.wait(), TIMEOUT)
    assert record.close_codes == [1006]


# -- heartbeat ------------------------------------------------------------------------------


async def test_heartbeat_drops_a_peer_that_never_pongs(serve_app: ServeApp) -> None:
    record = Record()
    client = await serve_app(ws_app(record))
    started = time.monotonic()
    async with await open_ws(client.port, "/heartbeat") as conn:
        frame = await read_frame(conn)
        assert frame.opcode == OP_PING  # after ~0.2 s; we do not answer
        # Dropped within half the heartbeat of the ping: the connection ends.
        rest = await conn.read_until_closed()
        assert not rest or rest[0] & 0x0F == OP_CLOSE
    assert time.monotonic() - started < 2.0
    await asyncio.wait_for(record.ended.wait(), TIMEOUT)
    assert record.close_codes == [1006]


async def test_heartbeat_keeps_a_peer_that_pongs(serve_app: ServeApp) -> None:
    record = Record()
    client = await serve_app(ws_app(record))
    async with await open_ws(client.port, "/heartbeat") as conn:
        deadline = time.monotonic() + 1.0  # five heartbeats
        pings = 0
        while time.monotonic() < deadline:
            frame = await read_frame(conn)
            assert frame.opcode == OP_PING
            pings += 1
            await conn.send(client_frame(OP_PONG, frame.payload))
        assert pings >= 3
        await conn.send(client_frame(OP_TEXT, b"alive"))
        await conn.send(client_frame(OP_CLOSE, close_payload(1000)))
        await expect_close(conn, 1000)
    await asyncio.wait_for(record.ended.wait(), TIMEOUT)
    assert record.messages == [("TEXT", "alive")]
    assert record.close_codes == [1000]


async def test_heartbeat_with_aiohttp_autoping(serve_app: ServeApp) -> None:
    record = Record()
    client = await serve_app(ws_app(record))
    ws = await bounded(client.ws_connect("/heartbeat"))
    received: list[aiohttp.WSMessage] = []

    async def receive_all() -> None:  # aiohttp answers pings while it receives
        async for message in ws:
            received.append(message)

    receiving = asyncio.ensure_future(receive_all())
    try:
        await asyncio.sleep(0.7)  # three heartbeats
        assert not ws.closed
        await bounded(ws.send_str("still connected"))
        await bounded(ws.close())
        await bounded(receiving)
    finally:
        receiving.cancel()
    await bounded(record.ended.wait())
    assert received == []
    assert record.messages == [("TEXT", "still connected")]
    assert record.close_codes == [1000]
