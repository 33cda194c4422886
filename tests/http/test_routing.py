"""Routing: which handler answers which method and target (RFC 9110 §9, §15.5.5-6)."""

from __future__ import annotations

import json

import pytest

from homeserver.http import web
from homeserver.http.routing import Router
from tests.support.http_client import ServeApp

from .raw import RawConnection, bounded, request


def echo(name: str) -> web.Handler:
    """A handler answering its name, the captured values and the route's pattern."""

    async def handler(req: web.Request) -> web.StreamResponse:
        body = {"handler": name, "params": req.match_info, "route": req.route}
        return web.Response(body=json.dumps(body).encode(), content_type="application/json")

    return handler


def routed_app() -> web.Application:
    app = web.Application()
    app.add_routes(
        [
            web.get("/static", echo("static")),
            web.post("/static", echo("static-post")),
            web.get("/rooms/{room_id}/state", echo("room-state")),
            web.get("/media/{server}/{media_id:[A-Za-z0-9]+}", echo("media")),
            web.get("/files/{path:.*}", echo("files")),
            # Two patterns matching /things/42, each with its own method.
            web.get("/things/{name}", echo("thing-get")),
            web.post("/things/{number:[0-9]+}", echo("thing-post")),
            # A static path and a pattern matching it, with different methods.
            web.get("/users/me", echo("me")),
            web.put("/users/{user_id}", echo("user-put")),
            web.route("PATCH", "/patchable", echo("patch")),
            web.delete("/things/{name}", echo("thing-delete")),
        ]
    )
    return app


async def fetch(port: int, method: str, target: str) -> tuple[int, dict[str, object], str]:
    async with await RawConnection.open(port) as conn:
        await conn.send(request(method, target))
        response = await conn.read_response()
    data = json.loads(response.body) if response.status == 200 else {}
    return response.status, data, response.header("Allow") or ""


async def test_static_route(serve_app: ServeApp) -> None:
    client = await serve_app(routed_app())
    status, data, _ = await fetch(client.port, "GET", "/static")
    assert (status, data["handler"], data["params"]) == (200, "static", {})
    status, data, _ = await fetch(client.port, "POST", "/static")
    assert (status, data["handler"]) == (200, "static-post")


async def test_static_route_matches_whole_path(serve_app: ServeApp) -> None:
    client = await serve_app(routed_app())
    for target in ("/static/", "/static/x", "/stati", "/Static"):
        status, _, _ = await fetch(client.port, "GET", target)
        assert status == 404, target


async def test_segment_parameter(serve_app: ServeApp) -> None:
    client = await serve_app(routed_app())
    status, data, _ = await fetch(client.port, "GET", "/rooms/abc/state")
    assert status == 200
    assert data["params"] == {"room_id": "abc"}
    assert data["route"] == "/rooms/{room_id}/state"


async def test_segment_parameter_is_one_nonempty_segment(serve_app: ServeApp) -> None:
    client = await serve_app(routed_app())
    for target in ("/rooms//state", "/rooms/a/b/state", "/rooms/abc/state/"):
        status, _, _ = await fetch(client.port, "GET", target)
        assert status == 404, target


async def test_captured_values_are_percent_decoded(serve_app: ServeApp) -> None:
    # Matrix ids travel percent-encoded (RFC 3986 §2.1); handlers see them decoded.
    client = await serve_app(routed_app())
    status, data, _ = await fetch(client.port, "GET", "/rooms/%21room%3Aexample.org/state")
    assert status == 200
    assert data["params"] == {"room_id": "!room:example.org"}


async def test_encoded_slash_stays_inside_one_segment(serve_app: ServeApp) -> None:
    # RFC 3986 §2.2: %2F is data, not a path separator.
    client = await serve_app(routed_app())
    status, data, _ = await fetch(client.port, "GET", "/rooms/a%2Fb/state")
    assert status == 200
    assert data["params"] == {"room_id": "a/b"}


async def test_regex_parameter(serve_app: ServeApp) -> None:
    client = await serve_app(routed_app())
    status, data, _ = await fetch(client.port, "GET", "/media/example.org/AbC123")
    assert status == 200
    assert data["params"] == {"server": "example.org", "media_id": "AbC123"}
    # The regex must match the whole segment.
    status, _, _ = await fetch(client.port, "GET", "/media/example.org/AbC-123")
    assert status == 404


async def test_catch_all_parameter_may_be_empty_and_span_slashes(serve_app: ServeApp) -> None:
    client = await serve_app(routed_app())
    status, data, _ = await fetch(client.port, "GET", "/files/")
    assert (status, data["params"]) == (200, {"path": ""})
    status, data, _ = await fetch(client.port, "GET", "/files/a/b/c.txt")
    assert (status, data["params"]) == (200, {"path": "a/b/c.txt"})
    status, data, _ = await fetch(client.port, "GET", "/files/a%20b/%2Fc")
    assert (status, data["params"]) == (200, {"path": "a b//c"})
    assert data["route"] == "/files/{path:.*}"


async def test_query_is_not_part_of_the_path(serve_app: ServeApp) -> None:
    # RFC 9112 §3.2.1: origin-form is absolute-path [ "?" query ].
    client = await serve_app(routed_app())
    status, data, _ = await fetch(client.port, "GET", "/rooms/abc/state?x=/y")
    assert (status, data["params"]) == (200, {"room_id": "abc"})


async def test_absolute_form_target(serve_app: ServeApp) -> None:
    # RFC 9112 §3.2.2: a server MUST accept the absolute form.
    client = await serve_app(routed_app())
    status, data, _ = await fetch(client.port, "GET", "http://127.0.0.1/rooms/abc/state")
    assert (status, data["params"]) == (200, {"room_id": "abc"})


async def test_unknown_path_is_404(serve_app: ServeApp) -> None:
    client = await serve_app(routed_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("GET", "/nowhere"))
        response = await conn.read_response()
    assert response.status == 404  # RFC 9110 §15.5.5


async def test_other_method_on_static_path_is_405_with_allow(serve_app: ServeApp) -> None:
    # RFC 9110 §15.5.6: a 405 MUST carry Allow, listing the supported methods.
    client = await serve_app(routed_app())
    status, _, allow = await fetch(client.port, "DELETE", "/static")
    assert status == 405
    assert {m.strip() for m in allow.split(",")} == {"GET", "HEAD", "POST"}


async def test_other_method_on_pattern_is_405(serve_app: ServeApp) -> None:
    client = await serve_app(routed_app())
    status, _, allow = await fetch(client.port, "POST", "/rooms/abc/state")
    assert status == 405
    assert {m.strip() for m in allow.split(",")} == {"GET", "HEAD"}


async def test_two_patterns_with_different_methods(serve_app: ServeApp) -> None:
    # /things/{name} (GET, DELETE) and /things/{number:[0-9]+} (POST) both match /things/42.
    client = await serve_app(routed_app())
    status, data, _ = await fetch(client.port, "GET", "/things/42")
    assert (status, data["handler"]) == (200, "thing-get")
    status, data, _ = await fetch(client.port, "POST", "/things/42")
    assert (status, data["handler"], data["params"]) == (200, "thing-post", {"number": "42"})
    assert data["route"] == "/things/{number:[0-9]+}"
    status, data, _ = await fetch(client.port, "DELETE", "/things/42")
    assert (status, data["handler"]) == (200, "thing-delete")
    # Only the first pattern matches /things/abc: POST there is not allowed.
    status, _, allow = await fetch(client.port, "POST", "/things/abc")
    assert status == 405
    assert {m.strip() for m in allow.split(",")} == {"GET", "HEAD", "DELETE"}
    # Neither has PUT for /things/42: the Allow field lists every matching route's methods.
    status, _, allow = await fetch(client.port, "PUT", "/things/42")
    assert status == 405
    assert {m.strip() for m in allow.split(",")} == {"GET", "HEAD", "DELETE", "POST"}


async def test_static_path_does_not_hide_a_pattern_with_the_method(serve_app: ServeApp) -> None:
    # GET /users/me is static; PUT /users/{user_id} matches /users/me too.
    client = await serve_app(routed_app())
    status, data, _ = await fetch(client.port, "GET", "/users/me")
    assert (status, data["handler"]) == (200, "me")
    status, data, _ = await fetch(client.port, "PUT", "/users/me")
    assert (status, data["handler"], data["params"]) == (200, "user-put", {"user_id": "me"})
    status, _, allow = await fetch(client.port, "POST", "/users/me")
    assert status == 405
    assert {m.strip() for m in allow.split(",")} == {"GET", "HEAD", "PUT"}


async def test_custom_method_route(serve_app: ServeApp) -> None:
    client = await serve_app(routed_app())
    status, data, _ = await fetch(client.port, "PATCH", "/patchable")
    assert (status, data["handler"]) == (200, "patch")


async def test_head_served_by_get_route_without_body(serve_app: ServeApp) -> None:
    # RFC 9110 §9.3.2: HEAD is GET without content; Content-Length is the GET's (§8.6).
    client = await serve_app(routed_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("GET", "/rooms/abc/state"))
        got = await conn.read_response()
        await conn.send(request("HEAD", "/rooms/abc/state"))
        head = await conn.read_response(head=True)
        assert head.status == 200
        assert head.header("Content-Length") == str(len(got.body)) != "0"
        assert head.header("Content-Type") == "application/json"
        # No body bytes follow: the next response on the connection starts right away.
        await conn.send(request("GET", "/static"))
        after = await conn.read_response()
        assert after.status == 200
        assert json.loads(after.body)["handler"] == "static"


async def test_head_of_unknown_path_is_404_without_body(serve_app: ServeApp) -> None:
    client = await serve_app(routed_app())
    async with await RawConnection.open(client.port) as conn:
        await conn.send(request("HEAD", "/nowhere"))
        response = await conn.read_response(head=True)
        assert response.status == 404
        await conn.send(request("GET", "/static"))
        assert (await conn.read_response()).status == 200


async def test_head_with_aiohttp_client(serve_app: ServeApp) -> None:
    client = await serve_app(routed_app())
    response = await bounded(client.head("/static"))
    assert response.status == 200
    assert int(response.headers["Content-Length"]) > 0
    assert await bounded(response.read()) == b""


def test_same_method_and_path_twice_raises() -> None:
    router = Router()
    router.add(web.get("/a", echo("one")))
    with pytest.raises(ValueError):
        router.add(web.get("/a", echo("two")))
    router.add(web.get("/b/{x}", echo("one")))
    with pytest.raises(ValueError):
        router.add(web.get("/b/{x}", echo("two")))
    # Another method on the same path is fine, and so is the same method elsewhere.
    router.add(web.post("/a", echo("three")))
    router.add(web.get("/b/{x}/c", echo("four")))


def test_same_route_twice_through_the_application_raises() -> None:
    app = web.Application()
    with pytest.raises(ValueError):
        app.add_routes([web.put("/x/{y}", echo("one")), web.put("/x/{y}", echo("two"))])
