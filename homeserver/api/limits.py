"""Request limits applied before any handler runs: rate limits and body sizes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from homeserver.errors import MatrixError
from homeserver.http import web
from homeserver.http.web import Handler, Middleware
from homeserver.ratelimit import TokenBucketLimiter

# Paths whose abuse costs the most (password hashing, account creation): per IP.
_ACCOUNT_PATHS = ("/login", "/register")
# Mutating requests under these are rate limited (media: uploads and /create).
_LIMITED_PATHS = ("/_matrix/client/", "/_matrix/media/")


@dataclass
class RateLimiters:
    actions: TokenBucketLimiter | None  # mutating client requests, per user or IP
    accounts: TokenBucketLimiter | None  # login and registration, per IP


def _requester_key(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    token = token or request.query.get("access_token")
    if token:
        return "t:" + hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:32]
    return "ip:" + (request.remote or "unknown")


def _limited(retry_after_ms: int) -> MatrixError:
    return MatrixError(429, "M_LIMIT_EXCEEDED", "Too many requests", retry_after_ms=retry_after_ms)


def rate_limit_middleware(limiters: RateLimiters) -> Middleware:
    @web.middleware
    async def limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if request.method in ("POST", "PUT", "DELETE") and path.startswith(_LIMITED_PATHS):
            if limiters.accounts is not None and path.endswith(_ACCOUNT_PATHS):
                wait = limiters.accounts.check("ip:" + (request.remote or "unknown"))
                if wait is not None:
                    raise _limited(wait)
            elif limiters.actions is not None:
                wait = limiters.actions.check(_requester_key(request))
                if wait is not None:
                    raise _limited(wait)
        return await handler(request)

    return limit


def body_size_middleware(max_bytes: int) -> Middleware:
    """Refuse a declared body over ``max_bytes`` (or the route's own limit, for media
    uploads) before reading it (413 M_TOO_LARGE)."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        length = request.content_length
        limit = max_bytes if request.max_body is None else request.max_body
        if length is not None and length > limit:
            raise MatrixError(413, "M_TOO_LARGE", f"Request body is over {limit} bytes")
        return await handler(request)

    return check
