"""Profiles of other servers' users, asked of their server and cached briefly.

spec: server-server "Querying for information" (``GET /query/profile``: "Requesting
servers MAY wish to cache the response"); client-server "Profiles" (``GET /profile/
{userId}`` of a remote user). A missing user (404) is cached like a found one; a server
that cannot be reached is not cached, and the caller falls back to what room
membership events told us.
"""

from __future__ import annotations

from typing import Any

from homeserver.clock import Clock
from homeserver.lru import LruCache
from homeserver.protocol.ids import server_name_of
from homeserver.remote import RemoteCaller, RemoteError

JsonDict = dict[str, Any]

TTL_MS = 60_000
TIMEOUT_S = 10.0


class RemoteProfiles:
    def __init__(
        self, remote: RemoteCaller, clock: Clock, *, ttl_ms: int = TTL_MS, max_users: int = 10_000
    ) -> None:
        self.remote = remote
        self.clock = clock
        self.ttl_ms = ttl_ms
        # user id -> (expiry, profile; None: the server said there is no such user)
        self._cache: LruCache[str, tuple[int, JsonDict | None]] = LruCache(max_users)

    async def get(self, user_id: str) -> JsonDict | None:
        """The user's public profile; None when their server says there is none.
        Raises ``RemoteError`` when the server could not answer."""
        now = self.clock.time_ms()
        cached = self._cache.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            answer = await self.remote.get_json(
                server_name_of(user_id),
                "/_matrix/federation/v1/query/profile",
                {"user_id": user_id},
                timeout=TIMEOUT_S,
            )
        except RemoteError as exc:
            if exc.status in (403, 404):
                self._cache.set(user_id, (now + self.ttl_ms, None))
                return None
            raise
        if not isinstance(answer, dict):
            raise RemoteError(None, None, "The profile is not a JSON object")
        # spec: a field the user has not set is absent or null.
        profile = {key: value for key, value in answer.items() if value is not None}
        self._cache.set(user_id, (now + self.ttl_ms, profile))
        return profile

    def forget(self, user_id: str) -> None:
        self._cache.pop(user_id)
