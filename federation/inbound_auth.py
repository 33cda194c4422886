"""Authenticating requests from other servers: the ``authenticated`` route wrapper.

spec: server-server "Request Authentication" — the ``Authorization: X-Matrix`` header
carries the origin's signature over ``{method, uri, origin, destination, content}``; a
``destination`` other than our name is refused with 401; the signature is checked with
the origin's key (fetched by the keyring when unknown). ``federation.domain_whitelist``
refuses other origins with 403.

    async def handler(request: web.Request, origin: str) -> web.StreamResponse: ...
    routes = [web.put("/_matrix/federation/v1/send/{txnId}", authenticated(handler))]
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from homeserver.appkeys import CONFIG_KEY
from homeserver.errors import MatrixError
from homeserver.http import web
from homeserver.protocol.errors import SignatureError
from homeserver.protocol.x_matrix import (
    XMatrixAuth,
    XMatrixError,
    is_x_matrix,
    parse_authorization,
    signed_request_json,
)

from .appkeys import KEYRING_KEY

FederationHandler = Callable[[web.Request, str], Awaitable[web.StreamResponse]]


def _unauthorized(message: str) -> MatrixError:
    return MatrixError(401, "M_UNAUTHORIZED", message)


def request_uri(request: web.Request) -> str:
    """The request-target as the sender signed it: the raw path and query."""
    return request.raw_path + (f"?{request.query_string}" if request.query_string else "")


def _parse_headers(request: web.Request) -> list[XMatrixAuth]:
    values = [v for v in request.headers.getall("Authorization") if is_x_matrix(v)]
    if not values:
        raise _unauthorized("Missing X-Matrix Authorization header")
    try:
        auths = [parse_authorization(value) for value in values]
    except XMatrixError as exc:
        raise _unauthorized(f"Invalid X-Matrix Authorization header: {exc}") from None
    if len({auth.origin for auth in auths}) != 1:
        raise _unauthorized("X-Matrix Authorization headers name different origins")
    return auths


async def _content(request: web.Request) -> Any:
    body = await request.read()
    if not body:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MatrixError(400, "M_NOT_JSON", "The request body is not JSON") from None


async def authenticate(request: web.Request) -> str:
    """The origin server of a signed request; raises ``MatrixError`` otherwise."""
    config = request.app[CONFIG_KEY]
    if not config.federation.enabled:
        raise MatrixError(403, "M_FORBIDDEN", "Federation is disabled on this server")
    auths = _parse_headers(request)
    origin = auths[0].origin
    for auth in auths:
        if auth.destination is not None and auth.destination != config.server_name:
            raise _unauthorized(
                f"The X-Matrix destination {auth.destination!r} is not this server"
                f" ({config.server_name})"
            )
    if not config.federation.allows(origin):
        raise MatrixError(403, "M_FORBIDDEN", f"Federation with {origin} is not allowed")
    if origin == config.server_name:
        raise _unauthorized("A request cannot come from this server's own name")
    content = await _content(request)
    obj = signed_request_json(
        auths[0], request.method, request_uri(request), config.server_name, content
    )
    signatures: dict[str, str] = {auth.key: auth.sig for auth in auths}
    obj["signatures"] = {origin: signatures}
    try:
        await request.app[KEYRING_KEY].verify_json(origin, obj)
    except SignatureError as exc:
        raise _unauthorized(f"Invalid X-Matrix signature from {origin}: {exc}") from None
    return origin


def authenticated(handler: FederationHandler) -> web.Handler:
    """Wrap ``handler(request, origin)`` so that it runs only for a verified origin."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        origin = await authenticate(request)
        return await handler(request, origin)

    wrapped.__name__ = getattr(handler, "__name__", "federation_handler")
    wrapped.__qualname__ = getattr(handler, "__qualname__", wrapped.__name__)
    return wrapped
