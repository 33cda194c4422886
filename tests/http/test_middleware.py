"""Middlewares: the first is the outermost, and they see every request, routed or not."""

from __future__ import annotations

from homeserver.http import web
from tests.support.http_client import ServeApp

from .raw import RawConnection, bounded, request


def recording_app(log: list[str]) -> web.Application:
    def named(name: str) -> web.Middleware:
        async def middleware(req: web.Request, handler: web.Handler) -> web.StreamResponse:
            log.append(f"{name}:in:{req.route}")
            try:
                response = await handler(req)
            except web.HTTPException as exc:
                log.append(f"{name}:raised:{exc.status}")
                raise
            log.append(f"{name}:out:{response.status}")
            response.headers[f"X-{name}"] = "seen"
            return response

        return middleware

    async def hello(req: web.Request) -> web.StreamResponse:
        log.append("handler")
        return web.Response(text="hello")

    app = web.Application(middlewares=[named("outer"), named("inner")])
    app.add_routes([web.get("/rooms/{room_id}", hello)])
    return app


async def test_first_middleware_is_outermost(serve_app: ServeApp) -> None:
    log: list[str] = []
    client = await serve_app(recording_app(log))
    response = await bounded(client.get("/rooms/abc"))
    assert response.status == 200
    assert await bounded(response.text()) == "hello"
    assert response.headers["X-outer"] == response.headers["X-inner"] == "seen"
    assert log == [
        "outer:in:/rooms/{room_id}",
        "inner:in:/rooms/{room_id}",
        "handler",
        "inner:out:200",
        "outer:out:200",
    ]


async def test_middlewares_run_for_unknown_paths(serve_app: ServeApp) -> None:
    log: list[str] = []
    client = await serve_app(recording_app(log))
    response = await bounded(client.get("/nowhere"))
    assert response.status == 404
    assert log == ["outer:in:None", "inner:in:None", "inner:raised:404", "outer:raised:404"]


async def test_middlewares_run_for_wrong_methods(serve_app: ServeApp) -> None:
    log: list[str] = []
    client = await serve_app(recording_app(log))
    response = await bounded(client.post("/rooms/abc"))
    assert response.status == 405
    # The pattern is known (for metrics) even though the method is not allowed.
    assert log == [
        "outer:in:/rooms/{room_id}",
        "inner:in:/rooms/{room_id}",
        "inner:raised:405",
        "outer:raised:405",
    ]


async def test_middleware_turns_errors_into_responses(serve_app: ServeApp) -> None:
    async def errors(req: web.Request, handler: web.Handler) -> web.StreamResponse:
        try:
            return await handler(req)
        except web.HTTPNotFound:
            return web.Response(status=404, text=f"no route for {req.path}")
        except web.HTTPMethodNotAllowed:
            return web.Response(status=405, text=f"not with {req.method}")

    async def ok(req: web.Request) -> web.StreamResponse:
        return web.Response(text="ok")

    app = web.Application(middlewares=[errors])
    app.add_routes([web.get("/here", ok)])
    client = await serve_app(app)
    response = await bounded(client.get("/not-here"))
    assert (response.status, await bounded(response.text())) == (404, "no route for /not-here")
    response = await bounded(client.delete("/here"))
    assert (response.status, await bounded(response.text())) == (405, "not with DELETE")


async def test_middleware_can_answer_without_calling_the_handler(serve_app: ServeApp) -> None:
    calls: list[str] = []

    async def gate(req: web.Request, handler: web.Handler) -> web.StreamResponse:
        if req.headers.get("Authorization") != "Bearer yes":
            return web.Response(status=401, text="no")
        return await handler(req)

    async def secret(req: web.Request) -> web.StreamResponse:
        calls.append(req.path)
        return web.Response(text="secret")

    app = web.Application(middlewares=[gate])
    app.add_routes([web.get("/secret", secret)])
    client = await serve_app(app)
    assert (await bounded(client.get("/secret"))).status == 401
    response = await bounded(client.get("/secret", headers={"authorization": "Bearer yes"}))
    assert (response.status, await bounded(response.text())) == (200, "secret")
    assert calls == ["/secret"]


async def test_route_is_the_pattern_not_the_path(serve_app: ServeApp) -> None:
    seen: list[tuple[str | None, str]] = []

    async def metrics(req: web.Request, handler: web.Handler) -> web.StreamResponse:
        try:
            return await handler(req)
        finally:
            seen.append((req.route, req.path))

    async def ok(req: web.Request) -> web.StreamResponse:
        return web.Response(text="ok")

    app = web.Application(middlewares=[metrics])
    app.add_routes([web.get("/static", ok), web.get("/r/{id}/x", ok)])
    client = await serve_app(app)
    async with await RawConnection.open(client.port) as conn:
        for target in ("/static", "/r/%21a%3Ab/x", "/r/%21a%3Ab/x?q=1", "/nope"):
            await conn.send(request("GET", target))
            await conn.read_response()
    assert seen == [
        ("/static", "/static"),
        ("/r/{id}/x", "/r/!a:b/x"),
        ("/r/{id}/x", "/r/!a:b/x"),
        (None, "/nope"),
    ]


async def test_unhandled_exception_in_middleware_is_500(serve_app: ServeApp) -> None:
    async def broken(req: web.Request, handler: web.Handler) -> web.StreamResponse:
        raise RuntimeError("secret detail")

    app = web.Application(middlewares=[broken])
    client = await serve_app(app)
    response = await bounded(client.get("/anything"))
    assert response.status == 500
    assert "secret detail" not in await bounded(response.text())
