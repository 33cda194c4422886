"""The outbound HTTP/1.1 client (homeserver.http.client), against our own server (plain
and TLS) and against raw sockets that answer exactly the bytes a test chooses."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from homeserver.http import web
from homeserver.http.client import (
    AddressRefused,
    HttpClient,
    HttpClientError,
    HttpTimeout,
    ResponseTooLarge,
)
from homeserver.http.server import Server
from homeserver.tls_files import server_context, write_self_signed

from .raw import bounded

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("tls")
    write_self_signed(d / "tls.crt", d / "tls.key", "localhost")
    return d / "tls.crt", d / "tls.key"


def echo_app() -> web.Application:
    async def echo(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        return web.Response(
            body=body,
            content_type="application/octet-stream",
            headers={
                "X-Method": request.method,
                "X-Target": request.raw_path + "?" + request.query_string,
                "X-Host": request.headers.get("Host", ""),
                "X-Remote-Port": str(request.protocol.transport.get_extra_info("peername")[1])
                if request.protocol and request.protocol.transport
                else "",
            },
        )

    async def big(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"x" * 100_000)

    async def streamed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(3):
            await response.write(b"chunk.")
        await response.write_eof()
        return response

    app = web.Application()
    app.add_routes(
        [
            web.get("/echo/{x}", echo),
            web.put("/echo/{x}", echo),
            web.post("/echo/{x}", echo),
            web.get("/big", big),
            web.get("/streamed", streamed),
        ]
    )
    return app


@pytest.fixture
async def plain_server() -> AsyncIterator[Server]:
    server = Server(echo_app(), "127.0.0.1", 0, shutdown_timeout=1)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def tls_server(tls_files: tuple[Path, Path]) -> AsyncIterator[Server]:
    server = Server(echo_app(), "127.0.0.1", 0, ssl=server_context(*tls_files), shutdown_timeout=1)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def client() -> AsyncIterator[HttpClient]:
    http = HttpClient(verify_tls=False)
    try:
        yield http
    finally:
        await http.close()


@contextlib.asynccontextmanager
async def raw_server(answer: Answer, tls: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    """A server on loopback that runs ``answer`` for each connection; yields its port."""
    tasks: set[asyncio.Task[None]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await answer(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await server.wait_closed()


async def read_head(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


async def test_get_and_post_against_our_server(plain_server: Server, client: HttpClient) -> None:
    got = await bounded(
        client.request("GET", "127.0.0.1", plain_server.port, "/echo/a%2Fb?x=1&y=%20", tls=False)
    )
    assert got.status == 200
    assert got.headers["X-Method"] == "GET"
    assert got.headers["X-Target"] == "/echo/a%2Fb?x=1&y=%20"
    assert got.headers["X-Host"] == f"127.0.0.1:{plain_server.port}"
    posted = await bounded(
        client.request(
            "POST",
            "127.0.0.1",
            plain_server.port,
            "/echo/p",
            tls=False,
            body=b'{"a": 1}',
            headers={"Content-Type": "application/json"},
            host_header="example.org",
        )
    )
    assert posted.body == b'{"a": 1}'
    assert posted.headers["X-Host"] == "example.org"


async def test_keep_alive_connections_are_reused(plain_server: Server, client: HttpClient) -> None:
    ports = set()
    for _ in range(3):
        got = await bounded(
            client.request("GET", "127.0.0.1", plain_server.port, "/echo/a", tls=False)
        )
        ports.add(got.headers["X-Remote-Port"])
    assert len(ports) == 1
    assert client.idle_connections() == 1
    # Concurrent requests each get a connection; all return to the pool after.
    answers = await bounded(
        asyncio.gather(
            *(
                client.request("GET", "127.0.0.1", plain_server.port, "/echo/a", tls=False)
                for _ in range(3)
            )
        )
    )
    assert {a.status for a in answers} == {200}
    assert client.idle_connections() == 3


async def test_tls_without_verification(tls_server: Server, client: HttpClient) -> None:
    got = await bounded(client.request("PUT", "localhost", tls_server.port, "/echo/t", body=b"hi"))
    assert (got.status, got.body, got.headers["X-Method"]) == (200, b"hi", "PUT")
    assert got.headers["X-Host"] == f"localhost:{tls_server.port}"


async def test_tls_verification_refuses_a_self_signed_certificate(tls_server: Server) -> None:
    http = HttpClient(verify_tls=True)
    try:
        with pytest.raises(HttpClientError, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
            await bounded(http.request("GET", "localhost", tls_server.port, "/echo/t"))
    finally:
        await http.close()


async def test_tls_verification_accepts_a_trusted_certificate(
    tls_server: Server, tls_files: tuple[Path, Path]
) -> None:
    http = HttpClient(verify_tls=True)
    context = ssl.create_default_context(cafile=str(tls_files[0]))
    http._ssl = context  # trust our own certificate, as an operator's CA bundle would
    try:
        got = await bounded(http.request("GET", "localhost", tls_server.port, "/echo/t"))
        assert got.status == 200
        # The certificate names localhost: asking for another name fails verification.
        with pytest.raises(HttpClientError):
            await bounded(
                http.request(
                    "GET", "localhost", tls_server.port, "/echo/t", server_hostname="other.org"
                )
            )
    finally:
        await http.close()


async def test_sni_is_the_expected_name_and_absent_for_ip_addresses(
    tls_files: tuple[Path, Path], client: HttpClient
) -> None:
    seen: list[str | None] = []
    context = server_context(*tls_files)
    context.sni_callback = lambda sock, name, ctx: seen.append(name)  # type: ignore[assignment]

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()

    async with raw_server(answer, context) as port:
        await bounded(client.request("GET", "localhost", port, "/", server_hostname="b.example"))
        await bounded(client.request("GET", "127.0.0.1", port, "/"))
    assert seen == ["b.example", None]


async def test_chunked_and_read_until_close_bodies(client: HttpClient) -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: 1\r\n\r\n"
        )
        await writer.drain()
        await reader.read()  # keep the connection open: the body ended by its framing

    async with raw_server(chunked) as port:
        got = await bounded(client.request("GET", "127.0.0.1", port, "/", tls=False))
    assert got.body == b"hello world"

    async def until_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it")
        await writer.drain()

    async with raw_server(until_close) as port:
        got = await bounded(client.request("GET", "127.0.0.1", port, "/", tls=False))
    assert got.body == b"all of it"
    assert client.idle_connections() == 0  # such a connection cannot be reused


async def test_our_servers_streamed_response(plain_server: Server, client: HttpClient) -> None:
    got = await bounded(
        client.request("GET", "127.0.0.1", plain_server.port, "/streamed", tls=False)
    )
    assert got.body == b"chunk.chunk.chunk."


async def test_the_body_size_is_capped(plain_server: Server, client: HttpClient) -> None:
    with pytest.raises(ResponseTooLarge):
        await bounded(
            client.request("GET", "127.0.0.1", plain_server.port, "/big", tls=False, max_body=1000)
        )
    got = await bounded(client.request("GET", "127.0.0.1", plain_server.port, "/big", tls=False))
    assert len(got.body) == 100_000

    async def endless_chunks(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(100):
            writer.write(b"400\r\n" + b"y" * 0x400 + b"\r\n")
            await writer.drain()
        await reader.read()

    async with raw_server(endless_chunks) as port:
        with pytest.raises(ResponseTooLarge):
            await bounded(client.request("GET", "127.0.0.1", port, "/", tls=False, max_body=10_000))


async def test_a_silent_server_times_out(client: HttpClient) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async with raw_server(silent) as port:
        with pytest.raises(HttpTimeout):
            await bounded(client.request("GET", "127.0.0.1", port, "/", tls=False, timeout=0.3))
    assert client.idle_connections() == 0


async def test_a_dropped_idle_connection_is_replaced(client: HttpClient) -> None:
    connections = 0

    async def one_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n" + str(connections).encode())
        await writer.drain()
        await read_head(reader)  # the next request on this connection: dropped unanswered

    async with raw_server(one_then_close) as port:
        first = await bounded(client.request("GET", "127.0.0.1", port, "/", tls=False))
        second = await bounded(client.request("GET", "127.0.0.1", port, "/", tls=False))
    assert (first.body, second.body) == (b"1", b"2")


async def test_interim_responses_are_skipped(client: HttpClient) -> None:
    async def interim(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone"
        )
        await writer.drain()
        await reader.read()

    async with raw_server(interim) as port:
        got = await bounded(client.request("GET", "127.0.0.1", port, "/", tls=False))
    assert (got.status, got.body) == (201, b"done")


async def test_malformed_and_truncated_responses(client: HttpClient) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"SMTP ready\r\n\r\n")
        await writer.drain()
        await reader.read()

    async with raw_server(garbage) as port:
        with pytest.raises(HttpClientError, match="malformed"):
            await bounded(client.request("GET", "127.0.0.1", port, "/", tls=False))

    async def truncated(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        await writer.drain()

    async with raw_server(truncated) as port:
        with pytest.raises(HttpClientError, match="mid-response"):
            await bounded(client.request("GET", "127.0.0.1", port, "/", tls=False))


async def test_refused_addresses_are_never_connected(plain_server: Server) -> None:
    seen: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []

    def allow(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        seen.append(ip)
        return False

    http = HttpClient(allow_address=allow)
    try:
        with pytest.raises(AddressRefused, match="not a public address"):
            await bounded(http.request("GET", "localhost", plain_server.port, "/echo/a", tls=False))
        with pytest.raises(AddressRefused):
            await bounded(http.request("GET", "127.0.0.1", plain_server.port, "/echo/a", tls=False))
    finally:
        await http.close()
    assert ipaddress.ip_address("127.0.0.1") in seen
    assert not plain_server.connections


async def test_unreachable_and_unresolvable(client: HttpClient) -> None:
    async def nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pass

    async with raw_server(nothing) as port:
        pass  # closed: nothing listens there now
    with pytest.raises(HttpClientError, match="cannot connect"):
        await bounded(client.request("GET", "127.0.0.1", port, "/", tls=False))
    with pytest.raises(HttpClientError, match="cannot resolve"):
        await bounded(client.request("GET", "no-such-host.invalid", 80, "/", tls=False))


def test_header_injection_is_refused() -> None:
    with pytest.raises(ValueError):
        HttpClient._encode("GET", "/x", "h", {"X-A": "1\r\nX-B: 2"}, None)
    with pytest.raises(ValueError):
        HttpClient._encode("GET", "/x HTTP/1.1\r\n", "h", {}, None)
