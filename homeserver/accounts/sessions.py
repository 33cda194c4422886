"""Issuing, refreshing and revoking the tokens of a device.

spec: client-server "Relationship between access tokens and devices", "Refreshing access
tokens", ``/logout``, ``/logout/all``, ``/refresh``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeserver.clock import Clock
from homeserver.storage.accounts_store import AccountsStore, NewTokens

from .authenticator import Authenticator
from .errors import unknown_token
from .hooks import AccountHooks
from .requester import Requester
from .tokens import new_access_token, new_device_id, new_refresh_token, token_hash


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    user_id: str
    device_id: str
    access_token: str
    refresh_token: str | None
    expires_in_ms: int | None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "user_id": self.user_id,
            "device_id": self.device_id,
            "access_token": self.access_token,
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        if self.expires_in_ms is not None:
            body["expires_in_ms"] = self.expires_in_ms
        return body


class Sessions:
    def __init__(
        self,
        store: AccountsStore,
        clock: Clock,
        authenticator: Authenticator,
        hooks: AccountHooks,
        *,
        refreshable_lifetime_ms: int,
    ) -> None:
        self._store = store
        self._clock = clock
        self._auth = authenticator
        self._hooks = hooks
        self._lifetime_ms = refreshable_lifetime_ms

    def _new_tokens(self, refreshable: bool) -> tuple[str, str | None, NewTokens, int | None]:
        access = new_access_token()
        if not refreshable:
            return access, None, NewTokens(token_hash(access)), None
        refresh = new_refresh_token()
        expires_ts = self._clock.time_ms() + self._lifetime_ms
        tokens = NewTokens(token_hash(access), token_hash(refresh), expires_ts)
        return access, refresh, tokens, self._lifetime_ms

    async def issue(
        self,
        user_id: str,
        *,
        device_id: str | None,
        display_name: str | None,
        refreshable: bool,
    ) -> IssuedTokens:
        """Log a device in: create it if new, else revoke the tokens it held."""
        device_id = device_id or new_device_id()
        access, refresh, tokens, expires_in = self._new_tokens(refreshable)
        created = await self._store.create_login(
            user_id, device_id, display_name, tokens, self._clock.time_ms()
        )
        self._auth.invalidate_devices(user_id, [device_id])
        if created:
            await self._hooks.fire_devices_added(user_id, [device_id])
        return IssuedTokens(user_id, device_id, access, refresh, expires_in)

    async def refresh(self, refresh_token: str) -> IssuedTokens:
        access, refresh, tokens, expires_in = self._new_tokens(True)
        found = await self._store.refresh(token_hash(refresh_token), tokens, self._clock.time_ms())
        if found is None:
            raise unknown_token("Unknown or already used refresh token")
        user_id, device_id = found
        self._auth.invalidate_devices(user_id, [device_id])
        return IssuedTokens(user_id, device_id, access, refresh, expires_in)

    async def logout(self, requester: Requester) -> None:
        """spec ``/logout``: the token goes, and with it its device."""
        removed = await self._store.delete_devices(requester.user_id, [requester.device_id])
        self._auth.invalidate_token(requester.token_id)
        self._auth.invalidate_devices(requester.user_id, [requester.device_id])
        await self._hooks.fire_devices_removed(requester.user_id, removed)

    async def logout_all(self, user_id: str, *, keep_device: str | None = None) -> list[str]:
        removed = await self._store.delete_all_devices(user_id, keep=keep_device)
        if keep_device is None:
            self._auth.invalidate_user(user_id)
        else:
            self._auth.invalidate_devices(user_id, removed)
        await self._hooks.fire_devices_removed(user_id, removed)
        return removed

    async def delete_devices(self, user_id: str, device_ids: list[str]) -> list[str]:
        removed = await self._store.delete_devices(user_id, device_ids)
        self._auth.invalidate_devices(user_id, list(device_ids))
        await self._hooks.fire_devices_removed(user_id, removed)
        return removed
