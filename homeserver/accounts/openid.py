"""OpenID tokens: proof of identity for a third party (the SFU, widgets).

spec: client-server "OpenID" (``POST /user/{userId}/openid/request_token``) and
server-server "OpenID" (``GET /_matrix/federation/v1/openid/userinfo``). A token is
opaque, lives an hour, and is only good for the userinfo look-up: it is kept apart
from access tokens, so it cannot call the client API.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from homeserver.clock import Clock
from homeserver.storage.openid_store import OpenIdStore

from .tokens import token_hash

OPENID_PREFIX = "coi_"
LIFETIME_MS = 3600 * 1000


@dataclass(frozen=True, slots=True)
class OpenIdToken:
    access_token: str
    server_name: str
    expires_in_ms: int

    def to_json(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "matrix_server_name": self.server_name,
            "expires_in": self.expires_in_ms // 1000,
        }


class OpenIdTokens:
    def __init__(
        self, store: OpenIdStore, clock: Clock, server_name: str, lifetime_ms: int = LIFETIME_MS
    ) -> None:
        self.store = store
        self.clock = clock
        self.server_name = server_name
        self.lifetime_ms = lifetime_ms

    async def issue(self, user_id: str) -> OpenIdToken:
        token = OPENID_PREFIX + secrets.token_urlsafe(32)
        now = self.clock.time_ms()
        await self.store.insert_token(token_hash(token), user_id, now + self.lifetime_ms, now)
        return OpenIdToken(token, self.server_name, self.lifetime_ms)

    async def user_for(self, token: str) -> str | None:
        """The user the token was issued to, or None (unknown or expired)."""
        if not token:
            return None
        return await self.store.token_user(token_hash(token), self.clock.time_ms())
