"""Routes: ``{name}`` matches one path segment, ``{name:regex}`` what the regex matches.

Paths are matched still percent-encoded, so an id containing an encoded ``/`` stays one
segment; each captured value is then decoded (Matrix ids travel percent-encoded in
paths: ``/rooms/%21abc%3Aexample.org/...``). ``GET`` routes answer ``HEAD`` too.

A route may take bodies larger than the application's ``client_max_size`` (media
uploads): ``web.post(path, handler, max_body=50 * 1024**2)``. The connection learns the
limit from the route as soon as the request's head has arrived.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

if TYPE_CHECKING:
    from .request import Request
    from .response import StreamResponse

Handler = Callable[["Request"], Awaitable["StreamResponse"]]

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::((?:[^{}]|\{[^{}]*\})+))?\}")


@dataclass(frozen=True)
class RouteDef:
    method: str
    path: str
    handler: Handler
    max_body: int | None = None  # None: the application's client_max_size


def route(method: str, path: str, handler: Handler, *, max_body: int | None = None) -> RouteDef:
    return RouteDef(method.upper(), path, handler, max_body)


def get(path: str, handler: Handler) -> RouteDef:
    return RouteDef("GET", path, handler)


def post(path: str, handler: Handler, *, max_body: int | None = None) -> RouteDef:
    return RouteDef("POST", path, handler, max_body)


def put(path: str, handler: Handler, *, max_body: int | None = None) -> RouteDef:
    return RouteDef("PUT", path, handler, max_body)


def delete(path: str, handler: Handler) -> RouteDef:
    return RouteDef("DELETE", path, handler)


def _compile(path: str) -> tuple[str, re.Pattern[str] | None]:
    """The literal prefix before the first parameter, and the pattern (None if static)."""
    if "{" not in path:
        return path, None
    pattern: list[str] = []
    pos = 0
    prefix = path[: path.index("{")]
    for match in _PARAM.finditer(path):
        pattern.append(re.escape(path[pos : match.start()]))
        name, regex = match.group(1), match.group(2) or "[^/]+"
        pattern.append(f"(?P<{name}>{regex})")
        pos = match.end()
    pattern.append(re.escape(path[pos:]))
    return prefix, re.compile("".join(pattern))


@dataclass(frozen=True)
class _Dynamic:
    prefix: str
    pattern: re.Pattern[str]
    path: str
    handlers: dict[str, Handler]


@dataclass(frozen=True)
class Match:
    handler: Handler | None  # None: the path exists, not with this method (405)
    params: dict[str, str]
    route: str | None  # the pattern that matched, None when nothing did
    max_body: int | None = None  # the route's own body limit


NOT_FOUND = Match(None, {}, None)


class Router:
    def __init__(self) -> None:
        self._static: dict[str, dict[str, Handler]] = {}
        self._dynamic: list[_Dynamic] = []
        self._by_path: dict[str, _Dynamic] = {}
        self._body_limits: dict[tuple[str, str], int] = {}  # (method, path) -> max_body

    @property
    def has_body_limits(self) -> bool:
        return bool(self._body_limits)

    def add(self, definition: RouteDef) -> None:
        prefix, pattern = _compile(definition.path)
        if pattern is None:
            handlers = self._static.setdefault(definition.path, {})
        else:
            entry = self._by_path.get(definition.path)
            if entry is None:
                entry = _Dynamic(prefix, pattern, definition.path, {})
                self._by_path[definition.path] = entry
                self._dynamic.append(entry)
            handlers = entry.handlers
        if definition.method in handlers:
            raise ValueError(f"route {definition.method} {definition.path} is defined twice")
        handlers[definition.method] = definition.handler
        if definition.max_body is not None:
            self._body_limits[(definition.method, definition.path)] = definition.max_body

    def resolve(self, method: str, raw_path: str) -> Match:
        lookup = "GET" if method == "HEAD" else method
        other_method: Match | None = None
        handlers = self._static.get(raw_path)
        if handlers is not None:
            handler = handlers.get(lookup)
            if handler is not None:
                return Match(handler, {}, raw_path, self._limit(lookup, raw_path))
            # A pattern matching this path may still have the method.
            other_method = Match(None, {}, raw_path)
        for entry, found in self._matching(raw_path):
            handler = entry.handlers.get(lookup)
            if handler is None:
                other_method = other_method or Match(None, {}, entry.path)
                continue
            params = {name: unquote(value) for name, value in found.groupdict().items()}
            return Match(handler, params, entry.path, self._limit(lookup, entry.path))
        return other_method or NOT_FOUND

    def _limit(self, method: str, path: str) -> int | None:
        return self._body_limits.get((method, path)) if self._body_limits else None

    def allowed_methods(self, raw_path: str) -> list[str]:
        """Every method some route takes for ``raw_path`` (``Allow``, RFC 9110 §10.2.1)."""
        methods = set(self._static.get(raw_path, ()))
        for entry, _ in self._matching(raw_path):
            methods.update(entry.handlers)
        if "GET" in methods:
            methods.add("HEAD")
        return sorted(methods)

    def _matching(self, raw_path: str) -> Iterator[tuple[_Dynamic, re.Match[str]]]:
        for entry in self._dynamic:
            if not raw_path.startswith(entry.prefix):
                continue
            found = entry.pattern.fullmatch(raw_path)
            if found is not None:
                yield entry, found

    def routes(self) -> list[tuple[str, str]]:
        """(method, path) of every route, for tests and introspection."""
        found = [(m, path) for path, handlers in self._static.items() for m in handlers]
        found += [(m, entry.path) for entry in self._dynamic for m in entry.handlers]
        return found
