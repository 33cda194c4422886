"""Who an OpenID token belongs to, asked of the user's own homeserver.

spec: client-server "OpenID" (the client's token carries ``matrix_server_name``) and
server-server "OpenID" (``GET /_matrix/federation/v1/openid/userinfo``, answered with
``{"sub": user_id}`` or 401 ``M_UNKNOWN_TOKEN``). The answer is believed only for users of
that server: a server cannot vouch for another server's users.
"""

from __future__ import annotations

import json
import logging

import aiohttp

from sfu.access import AccessDenied

from .address_guard import private_cause
from .bodies import read_limited
from .discovery import ServerResolver
from .ids import user_server

log = logging.getLogger("sfu.openid")

USERINFO = "/_matrix/federation/v1/openid/userinfo"
TIMEOUT_S = 10.0
# ``{"sub": "@user:server"}``: a few hundred bytes; anything much larger is not an answer.
USERINFO_MAX_BYTES = 64 * 1024


class OpenIdVerifier:
    def __init__(self, resolver: ServerResolver) -> None:
        self.resolver = resolver

    async def user_for(self, server_name: str, access_token: str) -> str:
        base = await self.resolver.base_url(server_name)
        if base is None:
            raise AccessDenied(
                400, "M_INVALID_PARAM", f"matrix_server_name {server_name!r} is not a server name"
            )
        private = AccessDenied(
            403,
            "M_FORBIDDEN",
            f"{server_name} is at a private address, which this voice server does not contact",
        )
        if self.resolver.refuses(server_name, base):
            raise private
        try:
            async with self.resolver.session_for(server_name).get(
                base + USERINFO,
                params={"access_token": access_token},
                ssl=self.resolver.verify_tls,
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_S),
            ) as resp:
                status = resp.status
                raw = await read_limited(resp, USERINFO_MAX_BYTES) if status == 200 else None
                body = json.loads(raw) if raw is not None else None
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            if private_cause(exc):
                raise private from None
            log.warning("openid userinfo failed server=%s error=%r", server_name, exc)
            raise AccessDenied(
                502, "M_UNKNOWN", f"Could not verify the OpenID token with {server_name}"
            ) from None
        if status in (401, 403, 404):
            raise AccessDenied(
                401, "M_UNKNOWN_TOKEN", f"{server_name} does not know this OpenID token"
            )
        if status != 200:
            raise AccessDenied(
                502, "M_UNKNOWN", f"{server_name} answered the OpenID check with HTTP {status}"
            )
        sub = body.get("sub") if isinstance(body, dict) else None
        if not isinstance(sub, str) or user_server(sub) != server_name:
            log.warning("openid userinfo bad sub server=%s sub=%r", server_name, sub)
            raise AccessDenied(
                401, "M_UNKNOWN_TOKEN", f"{server_name} vouched for a user not its own"
            )
        return sub
