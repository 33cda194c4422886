"""The application: typed state (``app[KEY]``), routes, middlewares and lifecycle hooks.

A middleware is ``async def mw(request, handler) -> response``; the first in the list is
the outermost. Unrouted paths and wrong methods still go through the middlewares: their
handler raises ``HTTPNotFound`` / ``HTTPMethodNotAllowed``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar, cast

from .errors import HTTPMethodNotAllowed, HTTPNotFound
from .request import Request
from .response import StreamResponse
from .routing import Handler, RouteDef, Router

T = TypeVar("T")

Middleware = Callable[[Request, Handler], Awaitable[StreamResponse]]
Hook = Callable[["Application"], Awaitable[None]]


class AppKey(Generic[T]):
    """A typed key for what the application holds."""

    __slots__ = ("name", "type")

    def __init__(self, name: str, t: type[T] | None = None) -> None:
        self.name = name
        self.type = t

    def __repr__(self) -> str:
        return f"<AppKey {self.name}>"


def _wrap(middleware: Middleware, inner: Handler) -> Handler:
    async def call(request: Request) -> StreamResponse:
        return await middleware(request, inner)

    return call


async def _not_found(request: Request) -> StreamResponse:
    raise HTTPNotFound()


async def _method_not_allowed(request: Request) -> StreamResponse:
    raise HTTPMethodNotAllowed(allowed=request.app.router.allowed_methods(request.raw_path))


class Application:
    def __init__(
        self, *, middlewares: Sequence[Middleware] = (), client_max_size: int = 1024**2
    ) -> None:
        self.router = Router()
        self.middlewares = list(middlewares)
        self.client_max_size = client_max_size
        self.on_startup: list[Hook] = []
        self.on_shutdown: list[Hook] = []
        self.on_cleanup: list[Hook] = []
        self._state: dict[AppKey[Any], Any] = {}
        self._chains: dict[Handler, Handler] = {}

    def __getitem__(self, key: AppKey[T]) -> T:
        return cast(T, self._state[key])

    def __setitem__(self, key: AppKey[T], value: T) -> None:
        self._state[key] = value

    def __contains__(self, key: object) -> bool:
        return key in self._state

    def get(self, key: AppKey[T], default: T | None = None) -> T | None:
        return cast("T | None", self._state.get(key, default))

    def add_routes(self, routes: Iterable[RouteDef]) -> None:
        for definition in routes:
            self.router.add(definition)

    def _chain(self, handler: Handler) -> Handler:
        chained = self._chains.get(handler)
        if chained is None:
            chained = handler
            for middleware in reversed(self.middlewares):
                chained = _wrap(middleware, chained)
            self._chains[handler] = chained
        return chained

    def body_limit(self, method: str, raw_path: str) -> int:
        """The largest body a request to ``raw_path`` may carry: its route's own limit,
        else ``client_max_size``."""
        if self.router.has_body_limits:
            limit = self.router.resolve(method, raw_path).max_body
            if limit is not None:
                return limit
        return self.client_max_size

    async def handle(self, request: Request) -> StreamResponse:
        """Route ``request`` and run it through the middlewares."""
        match = self.router.resolve(request.method, request.raw_path)
        request.match_info = match.params
        request.route = match.route
        if match.max_body is not None:
            request.max_body = match.max_body
        if match.handler is not None:
            handler = match.handler
        else:
            handler = _not_found if match.route is None else _method_not_allowed
        return await self._chain(handler)(request)

    async def startup(self) -> None:
        for hook in self.on_startup:
            await hook(self)

    async def shutdown(self) -> None:
        for hook in self.on_shutdown:
            await hook(self)

    async def cleanup(self) -> None:
        for hook in self.on_cleanup:
            await hook(self)
