"""The names route modules and middlewares use: ``from homeserver.http import web``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

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
from .websocket import WebSocketResponse, WSCloseCode, WSMessage, WSMsgType

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
