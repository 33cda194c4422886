"""HTTP/1.1 message handling over a real socket (RFC 9112, RFC 9110)."""

from __future__ import annotations

import asyncio
import email.utils
import json
import time

import aiohttp

from homeserver.http import web
from tests.support.http_client import ServeApp

from .raw import TIMEOUT, RawConnection, bounded, request

LIMIT = 1024  # the application's client_max_size


def http_app(log: list[str] | None = None) -> web.Application:
    """Handlers for the tests; ``log`` records what the middleware sees."""
    events = log if log is not None else []

    async def too_large(req: web.Request, handler: web.Handler) -> web.StreamResponse:
        events.append(f"middleware {req.method} {req.path}")
        try:
            return await handler(req)
        except web.HTTPRequestEntityTooLarge:
            events.append("413 through the middleware")
            return web.Response(status=413, text="M_TOO_LARGE from the middleware")

    async def hello(req: web.Request) -> web.StreamResponse:
        return web.Response(text="hello")

    async def echo(req: web.Request) -> web.StreamResponse:
        body = await req.read()
        events.append(f"echo read {len(body)}")
        return web.Response(body=body, headers={"X-Seen-Length": str(len(body))})

    async def ignore_body(req: web.Request) -> web.StreamResponse:
        return web.Response(text="not read")

    async def slow(req: web.Request) -> web.StreamResponse:
        await asyncio.sleep(float(req.query.get("delay", "0.2")))
        return web.Response(text="slow " + req.query.get("n", ""))

    async def numbered(req: web.Request) -> web.StreamResponse:
        return web.Response(text="n=" + req.query.get("n", ""))

    async def query(req: web.Request) -> web.StreamResponse:
        q = req.query
        body = {
            "items": q.items(),
            "a": q.getall("a"),
            "b": q.get("b"),
            "missing": q.get("missing", "default"),
            "getall_missing": q.getall("missing"),
            "raw": req.query_string,
        }
        return web.Response(body=json.dumps(body).encode(), content_type="application/json")

    async def headers(req: web.Request) -> web.StreamResponse:
        body = {
            "custom": req.headers.get("X-Custom-Header"),
            "in": "x-custom-header" in req.headers,
            "repeated": req.headers.getall("X-Repeated"),
            "joined": req.headers.get("x-repeated"),
        }
        return web.Response(body=json.dumps(body).encode(), content_type="application/json")

    async def boom(req: web.Request) -> web.StreamResponse:
        raise RuntimeError("secret-token-123 in a traceback")

    async def stream_chunked(req: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(content_type="text/plain")
        await response.prepare(req)
        for part in (b"first,", b"second,", b"third"):
            await response.write(part)
            await asyncio.sleep(0.01)
        await response.write_eof()
        return response

    async def stream_length(req: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(content_type="text/plain")
        response.content_length = 11
        await response.prepare(req)
        await response.write(b"hello ")
        await response.write(b"world")
        return response

    async def stream_unprepared(req: web.Request) -> web.StreamResponse:
        return web.StreamResponse(status=202, headers={"X-Kind": "unprepared"})

    async def stream_then_fail(req: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(content_type="text/plain")
        await response.prepare(req)
        await response.write(b"partial")
        raise web.HTTPBadRequest("too late to say so")

    async def stream_then_crash(req: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(content_type="text/plain")
        await response.prepare(req)
        await response.write(b"partial")
        raise RuntimeError("crash mid-stream")

    async def no_content(req: web.Request) -> web.StreamResponse:
        return web.Response(status=204)

    app = web.Application(middlewares=[too_large], client_max_size=LIMIT)
    app.add_routes(
        [
            web.get("/hello", hello),
            web.post("/echo", echo),
            web.post("/ignore-body", ignore_body),
            web.get("/slow", slow),
            web.get("/n", numbered),
            web.get("/query", query),
            web.get("/headers", headers),
            web.get("/boom", boom),
            web.get("/stream", stream_chunked),
            web.get("/stream-length", stream_length),
            web.get("/stream-unprepared", stream_unprepared),
            web.get("/stream-then-fail", stream_then_fail),
            web.get("/stream-then-crash", stream_then_crash),
            web.get("/no-content", no_content),
        ]
    )
    return app


# -- persistence (RFC 9112 §9.3) ------------------------------------------------------------


async def test_keep_alive_serves_two_requests_on_one_connection(serve_app: ServeApp) -> None:
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        for _ in range(2):
            await conn.send(request("GET", "/hello"))
            response = await conn.read_response()
            assert (response.status, response.body) == (200, b"hello")
            assert response.header("Connection") is None  # persistent by default in 1.1
        await conn.expect_open()


async def test_connection_close_is_honoured(serve_app: ServeApp) -> None:
    # RFC 9112 §9.6: after a request with "close" the server closes after responding.
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("GET", "/hello", headers={"Connection": "close"}))
        response = await conn.read_response()
        assert response.status == 200
        assert response.header("Connection") == "close"
        await conn.expect_closed()


async def test_requests_after_connection_close_are_not_answered(serve_app: ServeApp) -> None:
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(
            request("GET", "/n?n=1", headers={"Connection": "close"}) + request("GET", "/n?n=2")
        )
        response = await conn.read_response()
        assert response.body == b"n=1"
        await conn.expect_closed()


async def test_http10_closes_by_default(serve_app: ServeApp) -> None:
    # RFC 9112 §9.3: HTTP/1.0 is persistent only with "keep-alive".
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("GET", "/hello", version="1.0"))
        response = await conn.read_response()
        assert (response.status, response.body) == (200, b"hello")
        await conn.expect_closed()


async def test_http10_keep_alive(serve_app: ServeApp) -> None:
    # RFC 9112 §C.2.2: a keep-alive 1.0 connection is kept, and the response says so.
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        for _ in range(2):
            await conn.send(
                request("GET", "/hello", version="1.0", headers={"Connection": "keep-alive"})
            )
            response = await conn.read_response()
            assert (response.status, response.body) == (200, b"hello")
            assert (response.header("Connection") or "").lower() == "keep-alive"
        await conn.expect_open()


async def test_pipelined_requests_are_answered_in_order(serve_app: ServeApp) -> None:
    # RFC 9112 §9.3.2: responses in the same order as the pipelined requests.
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(
            request("GET", "/slow?delay=0.2&n=1")
            + request("POST", "/echo", body=b"two")
            + request("GET", "/slow?delay=0.05&n=3")
            + request("GET", "/n?n=4")
        )
        bodies = [(await conn.read_response()).body for _ in range(4)]
        assert bodies == [b"slow 1", b"two", b"slow 3", b"n=4"]
        await conn.expect_open()


async def test_pipelined_requests_in_many_small_writes(serve_app: ServeApp) -> None:
    client = await serve_app(http_app())
    data = b"".join(request("GET", f"/n?n={i}") for i in range(40))
    async with await RawConnection.open(client.port) as conn:
        for start in range(0, len(data), 7):
            await conn.send(data[start : start + 7])
        bodies = [(await conn.read_response()).body for _ in range(40)]
        assert bodies == [f"n={i}".encode() for i in range(40)]


async def test_client_half_close_still_gets_the_response(serve_app: ServeApp) -> None:
    # A client may shut down its sending side once the request is out (RFC 9293 §3.6:
    # the other direction stays open); the response still arrives, then the close.
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("GET", "/slow?delay=0.1&n=x"))
        conn.writer.write_eof()
        response = await conn.read_response()
        assert (response.status, response.body) == (200, b"slow x")
        await conn.expect_closed()


# -- request bodies (RFC 9112 §6, §7.1) -----------------------------------------------------


async def test_content_length_body(serve_app: ServeApp) -> None:
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("POST", "/echo", body=b"x" * LIMIT))  # exactly the limit
        response = await conn.read_response()
        assert (response.status, response.body) == (200, b"x" * LIMIT)


async def test_chunked_request_body(serve_app: ServeApp) -> None:
    client = await serve_app(http_app())
    body = b"5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: t\r\n\r\n"
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("POST", "/echo", headers={"Transfer-Encoding": "chunked"}) + body)
        response = await conn.read_response()
        assert (response.status, response.body) == (200, b"hello world!")
        # The connection is still in sync afterwards.
        await conn.send(request("GET", "/hello"))
        assert (await conn.read_response()).body == b"hello"


async def test_chunked_request_body_in_pieces(serve_app: ServeApp) -> None:
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("POST", "/echo", headers={"Transfer-Encoding": "chunked"}))
        for piece in (b"3\r\nab", b"c\r\n", b"2\r", b"\nde\r\n", b"0\r\n", b"\r\n"):
            await conn.send(piece)
            await asyncio.sleep(0.01)
        response = await conn.read_response()
        assert (response.status, response.body) == (200, b"abcde")


async def test_expect_100_continue(serve_app: ServeApp) -> None:
    # RFC 9110 §10.1.1: the client waits for 100 (Continue) before sending the content.
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(
            request("POST", "/echo", headers={"Content-Length": "4", "Expect": "100-continue"})
        )
        interim = await conn.read_response()
        assert interim.status == 100
        await conn.send(b"body")
        response = await conn.read_response()
        assert (response.status, response.body) == (200, b"body")


async def test_expect_100_continue_waits_for_earlier_responses(serve_app: ServeApp) -> None:
    # RFC 9112 §9.3.2: responses, interim ones included, come in request order; a
    # 100 (Continue) must not land inside the body of a response still being sent.
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("GET", "/stream"))
        head = await conn.read_head()
        assert head.header("Transfer-Encoding") == "chunked"
        await conn.send(
            request("POST", "/echo", headers={"Content-Length": "4", "Expect": "100-continue"})
        )
        await conn.read_chunked_body(head)
        assert head.body == b"first,second,third"
        interim = await conn.read_response()
        assert interim.status == 100
        await conn.send(b"body")
        response = await conn.read_response()
        assert (response.status, response.body) == (200, b"body")


async def test_expect_100_continue_with_aiohttp(serve_app: ServeApp) -> None:
    client = await serve_app(http_app())
    response = await bounded(client.post("/echo", data=b"payload", expect100=True))
    assert (response.status, await bounded(response.read())) == (200, b"payload")


async def test_expect_100_continue_ignored_for_http10(serve_app: ServeApp) -> None:
    # RFC 9110 §10.1.1: a 100-continue expectation in an HTTP/1.0 request MUST be ignored.
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(
            request("POST", "/echo", version="1.0", headers={"Expect": "100-continue"}, body=b"abc")
        )
        response = await conn.read_response()
        assert (response.status, response.body) == (200, b"abc")


async def test_expect_100_continue_with_too_large_body_gets_413_only(
    serve_app: ServeApp,
) -> None:
    # RFC 9110 §10.1.1: a final status that the header section alone determines is sent
    # instead of 100 (Continue), so the client does not send the content.
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(
            request(
                "POST",
                "/echo",
                headers={"Expect": "100-continue", "Content-Length": str(LIMIT + 1)},
            )
        )
        response = await conn.read_response()
        assert response.status == 413
        await conn.expect_closed()


# -- the request target and header fields ---------------------------------------------------


async def test_query_string(serve_app: ServeApp) -> None:
    client = await serve_app(http_app())
    target = "/query?a=1&b=x+y%2Bz&a=%C3%A9t%C3%A9&c=%26%3D&d=&e"
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("GET", target))
        data = json.loads((await conn.read_response()).body)
    assert data["a"] == ["1", "été"]  # a repeated name keeps every value, in order
    assert data["b"] == "x y+z"  # "+" is a space, "%2B" a plus (form encoding)
    assert data["items"] == [
        ["a", "1"],
        ["b", "x y+z"],
        ["a", "été"],
        ["c", "&="],
        ["d", ""],
        ["e", ""],
    ]
    assert data["missing"] == "default"
    assert data["getall_missing"] == []
    assert data["raw"] == target.partition("?")[2]


async def test_header_names_are_case_insensitive(serve_app: ServeApp) -> None:
    # RFC 9110 §5.1: field names are case-insensitive; §5.3: repeated fields combine.
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(
            b"GET /headers HTTP/1.1\r\nhOsT: 127.0.0.1\r\nx-CUSTOM-header:   value  \r\n"
            b"X-Repeated: a\r\nx-repeated: b, c\r\n\r\n"
        )
        data = json.loads((await conn.read_response()).body)
    assert data == {
        "custom": "value",  # leading and trailing whitespace is not part of the value
        "in": True,
        "repeated": ["a", "b, c"],
        "joined": "a, b, c",
    }


async def test_date_and_content_length_are_sent(serve_app: ServeApp) -> None:
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("GET", "/hello"))
        response = await conn.read_response()
    assert response.version == "HTTP/1.1"
    assert response.reason == "OK"
    assert response.header("Content-Length") == "5"
    assert response.header("Content-Type") == "text/plain; charset=utf-8"
    # RFC 9110 §6.6.1: an origin server with a clock MUST send Date, as IMF-fixdate (§5.6.7).
    date = response.header("Date")
    assert date is not None and date.endswith(" GMT")
    sent = email.utils.parsedate_to_datetime(date).timestamp()
    assert abs(sent - time.time()) < 5
    assert len(response.header_all("Date")) == 1


async def test_no_content_has_no_body_and_no_content_length(serve_app: ServeApp) -> None:
    # RFC 9110 §8.6: no Content-Length in a 204; RFC 9112 §6.3: a 204 has no body.
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("GET", "/no-content") + request("GET", "/hello"))
        response = await conn.read_response()
        assert response.status == 204
        assert response.header("Content-Length") is None
        assert response.header("Transfer-Encoding") is None
        assert (await conn.read_response()).body == b"hello"


# -- refused requests -----------------------------------------------------------------------


async def assert_refused(port: int, data: bytes, status: int) -> None:
    async with await RawConnection.open(port) as conn:
        await conn.send(data)
        response = await conn.read_response()
        assert response.status == status, data[:80]
        assert response.header("Connection") == "close"
        await conn.expect_closed()


async def test_malformed_request_line_is_400_and_closes(serve_app: ServeApp) -> None:
    # RFC 9112 §3: an invalid request-line SHOULD be answered with 400.
    client = await serve_app(http_app())
    for data in (
        b"GARBAGE\r\n\r\n",
        b"GET /hello HTTP/1.1 extra\r\nHost: x\r\n\r\n",
        b"GET /he llo HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello
    ):
        await assert_refused(client.port, data, 400)


async def test_malformed_header_is_400(serve_app: ServeApp) -> None:
    client = await serve_app(http_app())
    # RFC 9112 §5.1: whitespace between the field name and the colon MUST be rejected.
    await assert_refused(client.port, b"GET /hello HTTP/1.1\r\nHost : x\r\n\r\n", 400)
    await assert_refused(client.port, b"GET /hello HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n", 400)


async def test_request_line_without_version_is_400(serve_app: ServeApp) -> None:
    # RFC 9112 §3: request-line = method SP request-target SP HTTP-version (no HTTP/0.9).
    client = await serve_app(http_app())
    await assert_refused(client.port, b"GET /hello\r\nHost: x\r\n\r\n", 400)


async def test_other_major_version_is_505(serve_app: ServeApp) -> None:
    # RFC 9110 §15.6.6: 505 HTTP Version Not Supported.
    client = await serve_app(http_app())
    await assert_refused(client.port, b"GET /hello HTTP/2.0\r\nHost: x\r\n\r\n", 505)


async def test_obsolete_line_folding_is_400(serve_app: ServeApp) -> None:
    # RFC 9112 §5.2: a server MUST reject obs-fold with 400 (or unfold it).
    client = await serve_app(http_app())
    data = b"GET /headers HTTP/1.1\r\nHost: x\r\nX-Custom-Header: a\r\n b\r\n\r\n"
    async with await RawConnection.open(client.port) as conn:
        await conn.send(data)
        response = await conn.read_response()
        if response.status == 200:
            assert json.loads(response.body)["custom"] == "a b"
        else:
            assert response.status == 400
            await conn.expect_closed()


async def test_http11_request_without_host_is_400(serve_app: ServeApp) -> None:
    # RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request lacking Host, or
    # with more than one Host field line.
    client = await serve_app(http_app())
    await assert_refused(client.port, b"GET /hello HTTP/1.1\r\n\r\n", 400)
    await assert_refused(client.port, b"GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)
    # HTTP/1.0 has no such requirement.
    async with await RawConnection.open(client.port) as conn:
        await conn.send(b"GET /hello HTTP/1.0\r\n\r\n")
        assert (await conn.read_response()).status == 200


async def test_invalid_content_length_is_400(serve_app: ServeApp) -> None:
    # RFC 9112 §6.3 (5): an invalid Content-Length is unrecoverable: 400, then close.
    client = await serve_app(http_app())
    for value in ("abc", "-1", "1, 2"):
        data = f"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {value}\r\n\r\nab"
        await assert_refused(client.port, data.encode(), 400)


async def test_content_length_with_transfer_encoding_is_refused(serve_app: ServeApp) -> None:
    # RFC 9112 §6.3 (3): both fields may be a smuggling attempt; the server MAY refuse
    # and MUST close the connection after responding.
    client = await serve_app(http_app())
    data = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    await assert_refused(client.port, data, 400)


async def test_request_transfer_coding_not_ending_in_chunked_is_400(serve_app: ServeApp) -> None:
    # RFC 9112 §6.3 (4): the server MUST answer 400 and then close.
    client = await serve_app(http_app())
    data = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc"
    await assert_refused(client.port, data, 400)


async def test_malformed_request_after_a_pipelined_one(serve_app: ServeApp) -> None:
    # The first request is answered, then the malformed one gets its 400 and the close.
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("GET", "/slow?delay=0.2&n=1") + b"NOT HTTP AT ALL\r\n\r\n")
        first = await conn.read_response()
        assert (first.status, first.body) == (200, b"slow 1")
        second = await conn.read_response()
        assert second.status == 400
        await conn.expect_closed()


async def test_header_section_over_64_kib_is_431(serve_app: ServeApp) -> None:
    # RFC 6585 §5: 431 Request Header Fields Too Large.
    client = await serve_app(http_app())
    big = request("GET", "/hello", headers={"X-Big": "v" * (65 * 1024)})
    await assert_refused(client.port, big, 431)
    # Many fields: refused while they arrive, without waiting for the end of the section.
    fields = b"".join(b"X-Field-%d: %b\r\n" % (i, b"v" * 1000) for i in range(70))
    await assert_refused(client.port, b"GET /hello HTTP/1.1\r\nHost: x\r\n" + fields, 431)


async def test_header_section_under_the_limit_is_fine(serve_app: ServeApp) -> None:
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("GET", "/hello", headers={"X-Big": "v" * (60 * 1024)}))
        assert (await conn.read_response()).status == 200


async def test_url_over_16_kib_is_414(serve_app: ServeApp) -> None:
    # RFC 9110 §15.5.15: 414 URI Too Long.
    client = await serve_app(http_app())
    await assert_refused(client.port, request("GET", "/hello?q=" + "a" * (16 * 1024)), 414)
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("GET", "/hello?q=" + "a" * (15 * 1024)))
        assert (await conn.read_response()).status == 200


# -- bodies over client_max_size (RFC 9110 §15.5.14) ----------------------------------------


async def test_declared_body_over_the_limit_is_413_before_the_body(serve_app: ServeApp) -> None:
    log: list[str] = []
    client = await serve_app(http_app(log))
    async with await RawConnection.open(client.port) as conn:
        # Only the header section: the answer must not wait for the content.
        await conn.send(request("POST", "/echo", headers={"Content-Length": str(LIMIT + 1)}))
        response = await conn.read_response()
        assert response.status == 413
        assert response.body == b"M_TOO_LARGE from the middleware"
        assert response.header("Connection") == "close"
        await conn.expect_closed()
    assert log == ["middleware POST /echo", "413 through the middleware"]


async def test_declared_body_over_the_limit_while_the_client_sends_it(
    serve_app: ServeApp,
) -> None:
    # A client writing its whole (large) body still reads the 413: the server must not
    # reset the connection under it (RFC 9112 §9.6: close in stages).
    client = await serve_app(http_app())
    response = await bounded(client.post("/echo", data=b"x" * (2 * 1024**2)))
    assert response.status == 413
    assert await bounded(response.text()) == "M_TOO_LARGE from the middleware"


async def test_declared_body_over_the_limit_on_a_route_that_ignores_it(
    serve_app: ServeApp,
) -> None:
    # Whatever the handler answers, the unread body means the connection closes.
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(
            request("POST", "/ignore-body", headers={"Content-Length": str(10 * LIMIT)})
        )
        response = await conn.read_response()
        assert (response.status, response.body) == (200, b"not read")
        assert response.header("Connection") == "close"
        await conn.expect_closed()


async def test_chunked_body_over_the_limit_is_413(serve_app: ServeApp) -> None:
    log: list[str] = []
    client = await serve_app(http_app(log))
    chunk = b"%x\r\n%b\r\n" % (600, b"y" * 600)
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("POST", "/echo", headers={"Transfer-Encoding": "chunked"}))
        await conn.send(chunk + chunk)  # 1200 bytes > LIMIT, and no last chunk yet
        response = await conn.read_response()
        assert (response.status, response.body) == (413, b"M_TOO_LARGE from the middleware")
        assert response.header("Connection") == "close"
        await conn.expect_closed()
    assert "413 through the middleware" in log
    assert not any(event.startswith("echo read") for event in log)


async def test_413_after_a_pipelined_request(serve_app: ServeApp) -> None:
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(
            request("GET", "/slow?delay=0.1&n=1")
            + request("POST", "/echo", headers={"Content-Length": str(LIMIT + 1)})
        )
        assert (await conn.read_response()).body == b"slow 1"
        assert (await conn.read_response()).status == 413
        await conn.expect_closed()


# -- handler failures -----------------------------------------------------------------------


async def test_handler_exception_is_500_without_details(serve_app: ServeApp) -> None:
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("GET", "/boom"))
        response = await conn.read_response()
        assert response.status == 500
        assert b"secret" not in response.body
        assert b"Traceback" not in response.body
        assert b"RuntimeError" not in response.body
        # The connection is still usable.
        await conn.send(request("GET", "/hello"))
        assert (await conn.read_response()).body == b"hello"


async def test_failure_after_the_head_was_sent_closes(serve_app: ServeApp) -> None:
    # Once the status line is out no other response can be sent: the connection closes
    # before the last chunk, so the client knows the body is incomplete (RFC 9112 §7.1).
    client = await serve_app(http_app())
    for target in ("/stream-then-fail", "/stream-then-crash"):
        async with await RawConnection.open(client.port) as conn:
            await conn.send(request("GET", target))
            head = await conn.read_head()
            assert head.status == 200
            assert head.header("Transfer-Encoding") == "chunked"
            rest = await conn.read_until_closed()
            assert rest == b"7\r\npartial\r\n", (target, rest)


# -- streamed responses (RFC 9112 §6.1, §7.1) -----------------------------------------------


async def test_stream_response_chunked(serve_app: ServeApp) -> None:
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("GET", "/stream"))
        response = await conn.read_response()
        assert response.status == 200
        assert response.header("Transfer-Encoding") == "chunked"
        assert response.header("Content-Length") is None
        assert response.raw_body == b"6\r\nfirst,\r\n7\r\nsecond,\r\n5\r\nthird\r\n0\r\n\r\n"
        assert response.body == b"first,second,third"
        await conn.send(request("GET", "/hello"))
        assert (await conn.read_response()).body == b"hello"


async def test_stream_response_chunked_with_aiohttp(serve_app: ServeApp) -> None:
    client = await serve_app(http_app())
    response = await bounded(client.get("/stream"))
    assert (response.status, await bounded(response.read())) == (200, b"first,second,third")


async def test_stream_response_head_has_no_body(serve_app: ServeApp) -> None:
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("HEAD", "/stream") + request("GET", "/hello"))
        head = await conn.read_response(head=True)
        assert head.status == 200
        assert (await conn.read_response()).body == b"hello"


async def test_stream_response_with_content_length(serve_app: ServeApp) -> None:
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("GET", "/stream-length") + request("GET", "/hello"))
        response = await conn.read_response()
        assert response.header("Content-Length") == "11"
        assert response.header("Transfer-Encoding") is None
        assert response.body == b"hello world"
        assert (await conn.read_response()).body == b"hello"


async def test_stream_response_over_http10_ends_with_the_close(serve_app: ServeApp) -> None:
    # No chunked coding in HTTP/1.0 (RFC 9112 §6.1): the close delimits the body.
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(
            request("GET", "/stream", version="1.0", headers={"Connection": "keep-alive"})
        )
        response = await conn.read_response()
        assert response.header("Transfer-Encoding") is None
        assert response.header("Content-Length") is None
        assert response.body == b"first,second,third"


async def test_unprepared_stream_response_is_still_sent(serve_app: ServeApp) -> None:
    client = await serve_app(http_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("GET", "/stream-unprepared"))
        response = await asyncio.wait_for(conn.read_response(), TIMEOUT)
        assert response.status == 202
        assert response.header("X-Kind") == "unprepared"
        assert response.body == b""


async def test_many_requests_with_aiohttp_client(serve_app: ServeApp) -> None:
    client = await serve_app(http_app())
    connector = aiohttp.TCPConnector(limit=4)
    async with aiohttp.ClientSession(f"http://127.0.0.1:{client.port}", connector=connector) as s:

        async def one(i: int) -> bytes:
            async with s.post("/echo", data=f"body {i}".encode()) as response:
                return await bounded(response.read())

        bodies = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(50))), TIMEOUT)
    assert bodies == [f"body {i}".encode() for i in range(50)]


# -- a route's own body limit (media uploads take more than client_max_size) ----------------


def upload_app() -> web.Application:
    async def echo_length(req: web.Request) -> web.StreamResponse:
        body = await req.read()
        return web.Response(text=f"{len(body)} max_body={req.max_body}")

    app = web.Application(client_max_size=LIMIT)
    app.add_routes(
        [
            web.post("/upload/{name}", echo_length, max_body=4 * LIMIT),
            web.put("/upload/{name}", echo_length),  # the application's limit
            web.post("/small", echo_length),
        ]
    )
    return app


async def test_a_route_with_its_own_body_limit_takes_larger_bodies(serve_app: ServeApp) -> None:
    client = await serve_app(upload_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("POST", "/upload/a", body=b"x" * (3 * LIMIT)))
        response = await conn.read_response()
        assert (response.status, response.body) == (
            200,
            f"{3 * LIMIT} max_body={4 * LIMIT}".encode(),
        )
        # Other methods and routes keep the application's limit, on the same connection.
        await conn.send(request("POST", "/small", body=b"x" * LIMIT))
        assert (await conn.read_response()).body == f"{LIMIT} max_body=None".encode()
        await conn.send(request("PUT", "/upload/a", headers={"Content-Length": str(LIMIT + 1)}))
        assert (await conn.read_response()).status == 413
        await conn.expect_closed()


async def test_a_route_limit_still_refuses_more(serve_app: ServeApp) -> None:
    client = await serve_app(upload_app())
    # Declared: answered before the body is read.
    async with await RawConnection.open(client.port) as conn:
        await conn.send(
            request("POST", "/upload/a", headers={"Content-Length": str(4 * LIMIT + 1)})
        )
        response = await conn.read_response()
        assert response.status == 413
        await conn.expect_closed()
    # Chunked: refused once the received content passes the route's limit.
    chunk = b"%x\r\n%b\r\n" % (LIMIT, b"y" * LIMIT)
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("POST", "/upload/a", headers={"Transfer-Encoding": "chunked"}))
        await conn.send(chunk * 3 + b"0\r\n\r\n")
        assert (await conn.read_response()).body == f"{3 * LIMIT} max_body={4 * LIMIT}".encode()
        await conn.send(request("POST", "/upload/a", headers={"Transfer-Encoding": "chunked"}))
        await conn.send(chunk * 5)
        response = await conn.read_response()
        assert response.status == 413
        await conn.expect_closed()
