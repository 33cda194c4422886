"""Password change and deactivation. spec: client-server "Password management",
"Account deactivation". Both need user-interactive auth."""

from __future__ import annotations

import logging

from homeserver.logs import fields
from homeserver.storage.accounts_store import AccountsStore

from .authenticator import Authenticator
from .hooks import AccountHooks
from .passwords import PasswordHasher
from .requester import Requester
from .sessions import Sessions
from .user_auth import UserAuth

log = logging.getLogger(__name__)


class Account:
    def __init__(
        self,
        store: AccountsStore,
        hasher: PasswordHasher,
        sessions: Sessions,
        authenticator: Authenticator,
        user_auth: UserAuth,
        hooks: AccountHooks,
    ) -> None:
        self._store = store
        self._hasher = hasher
        self._sessions = sessions
        self._auth = authenticator
        self._user_auth = user_auth
        self._hooks = hooks

    async def change_password(
        self, requester: Requester, new_password: str, *, logout_devices: bool, auth: object
    ) -> None:
        await self._user_auth.confirm(requester, auth, "POST /account/password")
        await self._store.set_password_hash(
            requester.user_id, await self._hasher.hash(new_password)
        )
        if logout_devices:
            # spec: the user's *other* access tokens and their devices are revoked.
            await self._sessions.logout_all(requester.user_id, keep_device=requester.device_id)
        self._auth.invalidate_user(requester.user_id)

    async def deactivate(self, requester: Requester, auth: object) -> None:
        await self._user_auth.confirm(requester, auth, "POST /account/deactivate")
        removed = await self._store.deactivate_user(requester.user_id)
        log.info("deactivated", extra=fields(user_id=requester.user_id))
        self._auth.invalidate_user(requester.user_id)
        await self._hooks.fire_devices_removed(requester.user_id, removed)
        await self._hooks.fire_user_deactivated(requester.user_id)
