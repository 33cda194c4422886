"""HTTP-level failures a handler or the framework raises; the application's middleware
turns them into Matrix errors, and whatever escapes becomes a plain response."""

from __future__ import annotations

from http import HTTPStatus


class HTTPException(Exception):
    status = 500

    def __init__(self, reason: str | None = None) -> None:
        self.reason = reason or HTTPStatus(self.status).phrase
        super().__init__(self.reason)


class HTTPBadRequest(HTTPException):
    status = 400


class HTTPNotFound(HTTPException):
    status = 404


class HTTPMethodNotAllowed(HTTPException):
    status = 405


class HTTPRequestEntityTooLarge(HTTPException):
    status = 413
