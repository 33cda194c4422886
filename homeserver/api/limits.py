"""Request limits applied before any handler runs: rate limits and body sizes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from homeserver.errors import MatrixError
from homeserver.http import web
from homeserver.http.web import Handler, Middleware
from homeserver.ratelimit import TokenBucketLimiter

# Paths whose abuse costs the most (password hashing, account creation): per IP.
_ACCOUNT_PATHS = ("/login", "/register")
# Mutating requests under these are rate limited (media: uploads and /create).
_LIMITED_PATHS = ("/_matrix/client/", "/_matrix/media/")


# For a token that is an application service's ``as_token`` and the ``user_id`` it acts
# as: the bucket to charge, "" for none (exempt); None when the token is no such thing.
AppServiceBucket = Callable[[str, str | None], str | None]


@dataclass
class RateLimiters:
    actions: TokenBucketLimiter | None  # mutating client requests, per user or IP
    accounts: TokenBucketLimiter | None  # login and registration, per IP
    # Set by the application service wiring (spec: registration `rate_limited`).
    appservice_bucket: AppServiceBucket | None = None


LIMITERS_KEY = web.AppKey("rate_limiters", RateLimiters)


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    return token or request.query.get("access_token") or None


def _requester_key(request: web.Request) -> str:
    token = _bearer(request)
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
            token = _bearer(request) if limiters.appservice_bucket is not None else None
            bucket = None
            if token is not None and limiters.appservice_bucket is not None:
                bucket = limiters.appservice_bucket(token, request.query.get("user_id"))
            if bucket is not None:
                # An application service: exempt, or charged per masqueraded user.
                if bucket and limiters.actions is not None:
                    wait = limiters.actions.check(bucket)
                    if wait is not None:
                        raise _limited(wait)
            elif limiters.accounts is not None and path.endswith(_ACCOUNT_PATHS):
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
