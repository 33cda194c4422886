"""The names route modules and middlewares use: ``from homeserver.http import web``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .app import AppKey, Application, Middleware
from .errors import (
    HTTPBadRequest,
    HTTPException,
    HTTPMethodNotAllowed,
    HTTPNotFound,
    HTTPRequestEntityTooLarge,
)
from .request import Query, Request
from .response import Response, StreamResponse
from .routing import Handler, RouteDef, delete, get, post, put, route
from .server import Server

if TYPE_CHECKING:
    from .websocket import WebSocketResponse, WSCloseCode, WSMessage, WSMsgType

# The WebSocket names load on first use (PEP 562): a server whose clients never open
# the WebSocket sync transport does not keep that module in memory.
_WEBSOCKET_NAMES = frozenset({"WebSocketResponse", "WSCloseCode", "WSMessage", "WSMsgType"})


def __getattr__(name: str) -> Any:
    if name in _WEBSOCKET_NAMES:
        from . import websocket

        return getattr(websocket, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AppKey",
    "Application",
    "HTTPBadRequest",
    "HTTPException",
    "HTTPMethodNotAllowed",
    "HTTPNotFound",
    "HTTPRequestEntityTooLarge",
    "Handler",
    "Middleware",
    "Query",
    "Request",
    "Response",
    "RouteDef",
    "Server",
    "StreamResponse",
    "WSCloseCode",
    "WSMessage",
    "WSMsgType",
    "WebSocketResponse",
    "delete",
    "get",
    "middleware",
    "post",
    "put",
    "route",
]

F = TypeVar("F", bound=Callable[..., object])


def middleware(fn: F) -> F:
    """Marks a middleware (documentation only: every middleware has the new style)."""
    return fn
