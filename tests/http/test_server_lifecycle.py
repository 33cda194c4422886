"""The listening server: start-up and clean-up hooks, idle connections, and a stop that
drains requests in flight (RFC 9112 §9.6 on closing connections)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from homeserver.http import connection as connection_module
from homeserver.http import web

from .raw import (
    OP_CLOSE,
    OP_TEXT,
    TIMEOUT,
    RawConnection,
    client_frame,
    read_frame,
    request,
    ws_handshake,
    ws_key,
)

GREETING = web.AppKey("greeting", str)


class Events:
    def __init__(self) -> None:
        self.log: list[str] = []
        self.slow_started = asyncio.Event()
        self.ws_ended = asyncio.Event()


def lifecycle_app(events: Events) -> web.Application:
    async def on_startup(app: web.Application) -> None:
        events.log.append("startup")
        app[GREETING] = "hello from startup"

    async def on_shutdown(app: web.Application) -> None:
        events.log.append("shutdown")

    async def on_cleanup(app: web.Application) -> None:
        events.log.append("cleanup")

    async def greet(req: web.Request) -> web.StreamResponse:
        return web.Response(text=req.app[GREETING])

    async def slow(req: web.Request) -> web.StreamResponse:
        events.slow_started.set()
        try:
            await asyncio.sleep(float(req.query.get("delay", "0.5")))
        except asyncio.CancelledError:
            events.log.append("slow cancelled")
            raise
        events.log.append("slow finished")
        return web.Response(text="finally")

    async def ws_handler(req: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(req)
        async for _ in ws:
            pass
        events.ws_ended.set()
        return ws

    app = web.Application()
    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    app.add_routes([web.get("/greet", greet), web.get("/slow", slow), web.get("/ws", ws_handler)])
    return app


StartServer = Callable[..., Awaitable[web.Server]]


@pytest.fixture
async def start_server() -> AsyncIterator[StartServer]:
    """``await start_server(app, shutdown_timeout=...)``; stopped at the end if the test
    did not stop it."""
    servers: list[web.Server] = []
    stopped: set[int] = set()

    async def start(app: web.Application, shutdown_timeout: float = 2.0) -> web.Server:
        server = web.Server(app, "127.0.0.1", 0, shutdown_timeout=shutdown_timeout)
        await server.start()
        servers.append(server)
        original_stop = server.stop

        async def stop() -> None:
            stopped.add(id(server))
            await original_stop()

        server.stop = stop  # type: ignore[method-assign]
        return server

    yield start
    for server in servers:
        if id(server) not in stopped:
            await asyncio.wait_for(server.stop(), TIMEOUT)


async def test_startup_and_cleanup_hooks(start_server: StartServer) -> None:
    events = Events()
    server = await start_server(lifecycle_app(events))
    assert events.log == ["startup"]
    async with await RawConnection.open(server.port) as conn:
        await conn.send(request("GET", "/greet"))
        assert (await conn.read_response()).body == b"hello from startup"
    await asyncio.wait_for(server.stop(), TIMEOUT)
    assert events.log == ["startup", "shutdown", "cleanup"]


async def test_stop_lets_a_request_in_flight_finish(start_server: StartServer) -> None:
    events = Events()
    server = await start_server(lifecycle_app(events), shutdown_timeout=3.0)
    async with await RawConnection.open(server.port) as conn:
        await conn.send(request("GET", "/slow?delay=0.5"))
        await asyncio.wait_for(events.slow_started.wait(), TIMEOUT)
        started = time.monotonic()
        stopping = asyncio.ensure_future(server.stop())
        try:
            response = await conn.read_response()
            assert (response.status, response.body) == (200, b"finally")
            await conn.expect_closed()  # and then the connection closes
            await asyncio.wait_for(stopping, TIMEOUT)
        finally:
            stopping.cancel()
    elapsed = time.monotonic() - started
    assert 0.3 < elapsed < 2.5
    assert events.log == ["startup", "shutdown", "slow finished", "cleanup"]


async def test_stop_closes_idle_keep_alive_connections(start_server: StartServer) -> None:
    events = Events()
    server = await start_server(lifecycle_app(events), shutdown_timeout=3.0)
    async with (
        await RawConnection.open(server.port) as idle,
        await RawConnection.open(server.port) as fresh,
    ):
        await idle.send(request("GET", "/greet"))
        assert (await idle.read_response()).status == 200
        await idle.expect_open(0.1)
        started = time.monotonic()
        await asyncio.wait_for(server.stop(), TIMEOUT)
        # Nothing was in flight: no waiting for the shutdown timeout.
        assert time.monotonic() - started < 1.0
        await idle.expect_closed()
        await fresh.expect_closed()  # connected, never sent a byte


async def test_stop_gives_up_on_a_request_after_the_shutdown_timeout(
    start_server: StartServer,
) -> None:
    events = Events()
    server = await start_server(lifecycle_app(events), shutdown_timeout=0.3)
    async with await RawConnection.open(server.port) as conn:
        await conn.send(request("GET", "/slow?delay=30"))
        await asyncio.wait_for(events.slow_started.wait(), TIMEOUT)
        started = time.monotonic()
        await asyncio.wait_for(server.stop(), TIMEOUT)
        assert time.monotonic() - started < 1.5
        await conn.expect_closed()
    await asyncio.sleep(0)
    assert "slow cancelled" in events.log
    assert events.log[-1] == "cleanup"


async def test_port_refuses_connections_after_stop(start_server: StartServer) -> None:
    events = Events()
    server = await start_server(lifecycle_app(events))
    port = server.port
    async with await RawConnection.open(port) as conn:
        await conn.send(request("GET", "/greet"))
        assert (await conn.read_response()).status == 200
    await asyncio.wait_for(server.stop(), TIMEOUT)
    with pytest.raises(ConnectionRefusedError):
        await RawConnection.open(port)


async def test_stop_closes_websockets_with_going_away(start_server: StartServer) -> None:
    # RFC 6455 §7.4.1: 1001, the endpoint is going away.
    events = Events()
    server = await start_server(lifecycle_app(events))
    async with await RawConnection.open(server.port) as conn:
        await conn.send(ws_handshake("/ws", ws_key()))
        assert (await conn.read_head()).status == 101
        stopping = asyncio.ensure_future(server.stop())
        try:
            frame = await read_frame(conn)
            assert frame.opcode == OP_CLOSE
            assert frame.close_code == 1001
            await conn.send(client_frame(OP_CLOSE, frame.payload[:2]))
            await conn.expect_closed()
            await asyncio.wait_for(stopping, TIMEOUT)
        finally:
            stopping.cancel()
    assert events.ws_ended.is_set()
    assert events.log == ["startup", "shutdown", "cleanup"]


async def test_stop_is_bounded_by_websockets_that_never_answer(
    start_server: StartServer,
) -> None:
    # Peers that ignore the Close frame do not hold the stop past its timeout, however
    # many there are.
    events = Events()
    server = await start_server(lifecycle_app(events), shutdown_timeout=0.5)
    conns = [await RawConnection.open(server.port) for _ in range(3)]
    try:
        for conn in conns:
            await conn.send(ws_handshake("/ws", ws_key()))
            assert (await conn.read_head()).status == 101
            await conn.send(client_frame(OP_TEXT, b"hi"))
        started = time.monotonic()
        await asyncio.wait_for(server.stop(), TIMEOUT)
        assert time.monotonic() - started < 2.0
        for conn in conns:
            frame = await read_frame(conn)
            assert (frame.opcode, frame.close_code) == (OP_CLOSE, 1001)
            await conn.expect_closed()
    finally:
        for conn in conns:
            await conn.close()
    assert events.log == ["startup", "shutdown", "cleanup"]


async def test_idle_keep_alive_connection_times_out(
    start_server: StartServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connection_module, "KEEPALIVE_S", 0.3)
    events = Events()
    server = await start_server(lifecycle_app(events))
    async with (
        await RawConnection.open(server.port) as idle,
        await RawConnection.open(server.port) as busy,
    ):
        await idle.send(request("GET", "/greet"))
        assert (await idle.read_response()).status == 200
        # A request in flight longer than the idle timeout is not cut.
        await busy.send(request("GET", "/slow?delay=0.6"))
        started = time.monotonic()
        await idle.expect_closed()
        assert 0.1 < time.monotonic() - started < 2.0
        response = await busy.read_response()
        assert (response.status, response.body) == (200, b"finally")


async def test_a_trickling_request_is_dropped_after_the_read_timeout(
    start_server: StartServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A client that starts a request and never finishes it holds nothing for long
    # (a slowloris): the head and body must arrive within READ_TIMEOUT_S.
    monkeypatch.setattr(connection_module, "READ_TIMEOUT_S", 0.3)
    server = await start_server(lifecycle_app(Events()))
    async with await RawConnection.open(server.port) as conn:
        await conn.send(b"GET /greet HTTP/1.1\r\nHost: x\r\nX-Slow: a")
        started = time.monotonic()
        for _ in range(3):
            await asyncio.sleep(0.05)
            await conn.send(b"a")
        await conn.expect_closed()
        assert 0.2 < time.monotonic() - started < 2.0


async def test_a_head_growing_past_the_limits_is_refused_before_it_ends(
    start_server: StartServer,
) -> None:
    # One endless header field: refused while it is still arriving, not buffered whole.
    server = await start_server(lifecycle_app(Events()))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(b"GET /greet HTTP/1.1\r\nHost: x\r\nX-Huge: ")
        with contextlib.suppress(ConnectionError):
            for _ in range(12):
                writer.write(b"a" * 8192)
                await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 5)  # until the server closes
        assert answer.startswith(b"HTTP/1.1 431 ")
    finally:
        writer.transport.abort()


async def test_stopping_twice_is_stopping_once(start_server: StartServer) -> None:
    events = Events()
    server = await start_server(lifecycle_app(events))
    await server.stop()
    await server.stop()
    assert events.log == ["startup", "shutdown", "cleanup"]
