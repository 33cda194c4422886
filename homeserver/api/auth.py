"""The access-token check every authenticated endpoint uses.

    requester = await require_user(request)

spec: client-server "Using access tokens": ``Authorization: Bearer <token>`` (or the
``access_token`` query parameter, which older clients still send). Missing token: 401
``M_MISSING_TOKEN``; unknown, revoked or deactivated: 401 ``M_UNKNOWN_TOKEN`` with
``soft_logout: false``; expired: 401 ``M_UNKNOWN_TOKEN`` with ``soft_logout: true``.
"""

from __future__ import annotations

from homeserver.accounts.authenticator import Authenticator
from homeserver.accounts.errors import missing_token
from homeserver.accounts.requester import Requester
from homeserver.errors import MatrixError
from homeserver.http import web

__all__ = ["AUTH_KEY", "Authenticator", "Requester", "access_token", "require_user"]

AUTH_KEY = web.AppKey("authenticator", Authenticator)


def access_token(request: web.Request) -> str | None:
    """The token the request carries, or None."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise MatrixError(
                401, "M_MISSING_TOKEN", "Invalid Authorization header", soft_logout=False
            )
        return token.strip()
    return request.query.get("access_token") or None


async def require_user(request: web.Request) -> Requester:
    token = access_token(request)
    if token is None:
        raise missing_token()
    return await request.config_dict[AUTH_KEY].authenticate(
        token,
        request.remote,
        user_id=request.query.get("user_id"),
        device_id=request.query.get("device_id"),
    )
