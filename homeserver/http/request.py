"""One HTTP request as a handler sees it.

The body has been read by the time a handler runs, unless it declared a length over the
limit (its route's own ``max_body``, else the application's ``client_max_size``): then
``read`` raises 413 and the connection closes after the response, without the body ever
being read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, overload
from urllib.parse import parse_qsl, unquote

import orjson

from .errors import HTTPBadRequest, HTTPRequestEntityTooLarge
from .headers import Headers

if TYPE_CHECKING:
    from .app import Application
    from .connection import HttpProtocol


class Query:
    """The query string's parameters; a repeated name keeps every value, in order."""

    __slots__ = ("_first", "_pairs")

    def __init__(self, query_string: str) -> None:
        self._pairs = parse_qsl(query_string, keep_blank_values=True)
        self._first: dict[str, str] = {}
        for name, value in self._pairs:
            self._first.setdefault(name, value)

    @overload
    def get(self, name: str) -> str | None: ...

    @overload
    def get(self, name: str, default: str) -> str: ...

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._first.get(name, default)

    def __getitem__(self, name: str) -> str:
        return self._first[name]

    def __contains__(self, name: object) -> bool:
        return name in self._first

    def getall(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name]

    def keys(self) -> list[str]:
        return list(self._first)

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def __repr__(self) -> str:
        return f"Query({self._pairs!r})"


class Request:
    __slots__ = (
        "__weakref__",
        "_body",
        "_body_too_large",
        "_query",
        "app",
        "headers",
        "keep_alive",
        "match_info",
        "max_body",
        "method",
        "protocol",
        "query_string",
        "raw_path",
        "remote",
        "route",
        "version",
    )

    def __init__(
        self,
        *,
        method: str,
        raw_path: str,
        query_string: str,
        headers: Headers,
        version: str,
        body: bytes,
        body_too_large: bool,
        keep_alive: bool,
        remote: str | None,
        app: Application,
        protocol: HttpProtocol | None = None,
    ) -> None:
        self.method = method
        self.raw_path = raw_path  # still percent-encoded, as routes match it
        self.query_string = query_string
        self.headers = headers
        self.version = version
        self._body = body
        self._body_too_large = body_too_large
        self.keep_alive = keep_alive
        self.remote = remote
        self.app = app
        self.protocol = protocol
        self.match_info: dict[str, str] = {}
        self.route: str | None = None  # the matched route's pattern, for metrics
        self.max_body: int | None = None  # the matched route's own body limit, if it has one
        self._query: Query | None = None

    @property
    def path(self) -> str:
        return unquote(self.raw_path)

    @property
    def query(self) -> Query:
        if self._query is None:
            self._query = Query(self.query_string)
        return self._query

    @property
    def config_dict(self) -> Application:
        return self.app

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("Content-Length")
        return int(value) if value is not None and value.isdigit() else None

    @property
    def content_type(self) -> str:
        value = self.headers.get("Content-Type") or "application/octet-stream"
        return value.split(";", 1)[0].strip().lower()

    async def read(self) -> bytes:
        if self._body_too_large:
            raise HTTPRequestEntityTooLarge()
        return self._body

    async def text(self) -> str:
        return (await self.read()).decode("utf-8", "replace")

    async def json(self) -> Any:
        try:
            return orjson.loads(await self.read())
        except orjson.JSONDecodeError:
            raise HTTPBadRequest("the body is not JSON") from None

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.raw_path}>"
