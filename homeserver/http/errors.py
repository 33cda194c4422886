"""HTTP-level failures a handler or the framework raises; the application's middleware
turns them into Matrix errors, and whatever escapes becomes a plain response."""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus


class HTTPException(Exception):
    status = 500

    def __init__(self, reason: str | None = None) -> None:
        self.reason = reason or HTTPStatus(self.status).phrase
        self.headers: dict[str, str] = {}  # sent with the plain response it becomes
        super().__init__(self.reason)


class HTTPBadRequest(HTTPException):
    status = 400


class HTTPNotFound(HTTPException):
    status = 404


class HTTPMethodNotAllowed(HTTPException):
    status = 405

    def __init__(self, reason: str | None = None, *, allowed: Iterable[str] = ()) -> None:
        super().__init__(reason)
        self.allowed = list(allowed)
        # RFC 9110 §15.5.6: a 405 MUST list the target's methods in Allow.
        self.headers["Allow"] = ", ".join(self.allowed)


class HTTPRequestEntityTooLarge(HTTPException):
    status = 413
