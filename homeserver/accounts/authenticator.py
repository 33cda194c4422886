"""Access token -> ``Requester``, with an LRU cache and last-seen bookkeeping.

spec: client-server "Using access tokens", "Soft logout", "Refreshing access tokens".
Every change that revokes tokens (logout, device deletion, password change with logout,
deactivation, refresh) invalidates the cache through this object, so a revoked token is
refused on its next use.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from homeserver.clock import Clock
from homeserver.storage.accounts_store import AccountsStore

from .appservices import AppServiceDirectory
from .errors import unknown_token
from .requester import Requester
from .tokens import token_hash

LAST_SEEN_INTERVAL_MS = 60_000


@dataclass(frozen=True, slots=True)
class _Entry:
    requester: Requester
    expires_ts: int | None


class Authenticator:
    def __init__(self, store: AccountsStore, clock: Clock, *, cache_size: int = 10_000) -> None:
        self._store = store
        self._clock = clock
        self._cache_size = cache_size
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._last_seen: OrderedDict[tuple[str, str], int] = OrderedDict()
        # Bumped by every invalidation: a lookup that raced with one must not cache a
        # token that was revoked while it read the database.
        self._generation = 0
        # Filled from the application service registrations at start.
        self.appservices = AppServiceDirectory()

    async def authenticate(
        self,
        token: str,
        ip: str | None = None,
        *,
        user_id: str | None = None,
        device_id: str | None = None,
    ) -> Requester:
        """The requester for ``token``; 401 ``M_UNKNOWN_TOKEN`` if it is not valid.

        An application service's ``as_token`` acts as ``user_id`` (default: its sender)
        with ``device_id`` (the ``user_id``/``device_id`` query parameters); other tokens
        ignore them.
        """
        service = self.appservices.by_token(token)
        if service is not None:
            return await self.appservices.requester(service, self._store, user_id, device_id)
        hashed = token_hash(token)
        now = self._clock.time_ms()
        entry = self._cache.get(hashed)
        if entry is not None:
            self._cache.move_to_end(hashed)
        else:
            entry = await self._load(hashed)
        if entry.expires_ts is not None and now >= entry.expires_ts:
            raise unknown_token("Access token has expired", soft_logout=True)
        await self._touch(entry.requester, now, ip)
        return entry.requester

    async def _load(self, hashed: str) -> _Entry:
        generation = self._generation
        record = await self._store.get_access_token(hashed)
        if record is None or record.deactivated:
            raise unknown_token()
        if record.has_predecessor and record.refresh_token_hash is not None:
            # spec "Refreshing access tokens": the first use of the new access token
            # revokes the refresh token it replaced.
            await self._store.retire_predecessor(record.refresh_token_hash)
        entry = _Entry(
            Requester(record.user_id, record.device_id, hashed, record.is_admin),
            record.expires_ts,
        )
        if generation == self._generation:
            self._cache[hashed] = entry
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return entry

    async def _touch(self, requester: Requester, now: int, ip: str | None) -> None:
        key = (requester.user_id, requester.device_id)
        last = self._last_seen.get(key)
        if last is not None and now - last < LAST_SEEN_INTERVAL_MS:
            return
        self._last_seen[key] = now
        self._last_seen.move_to_end(key)
        while len(self._last_seen) > self._cache_size:
            self._last_seen.popitem(last=False)
        await self._store.update_last_seen(requester.user_id, requester.device_id, now, ip)

    # -- invalidation ---------------------------------------------------------------------

    def invalidate_token(self, hashed: str) -> None:
        self._generation += 1
        self._cache.pop(hashed, None)

    def invalidate_devices(self, user_id: str, device_ids: list[str]) -> None:
        self._generation += 1
        wanted = set(device_ids)
        for hashed, entry in list(self._cache.items()):
            if entry.requester.user_id == user_id and entry.requester.device_id in wanted:
                del self._cache[hashed]

    def invalidate_user(self, user_id: str) -> None:
        self._generation += 1
        for hashed, entry in list(self._cache.items()):
            if entry.requester.user_id == user_id:
                del self._cache[hashed]
