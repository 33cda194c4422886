"""``POST /login``: password and JWT login. spec: client-server "Login" (legacy API).

A wrong password and an unknown user get the same 403 after the same bcrypt work.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeserver.clock import Clock
from homeserver.errors import MatrixError
from homeserver.logs import fields
from homeserver.storage.accounts_store import AccountsStore, UserExistsError

from .appservices import AppServiceDirectory
from .errors import bad_login, forbidden, invalid_param, unknown_token
from .identifiers import identified_user
from .jwt_auth import JwtVerifier
from .passwords import MAX_PASSWORD_LENGTH, PasswordHasher
from .sessions import Sessions
from .uia import JWT, PASSWORD

APPLICATION_SERVICE = "m.login.application_service"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeviceRequest:
    device_id: str | None
    initial_device_display_name: str | None
    refresh_token: bool


class Login:
    def __init__(
        self,
        *,
        server_name: str,
        store: AccountsStore,
        clock: Clock,
        hasher: PasswordHasher,
        jwt: JwtVerifier,
        sessions: Sessions,
        appservices: AppServiceDirectory | None = None,
    ) -> None:
        self.server_name = server_name
        self._appservices = appservices or AppServiceDirectory()
        self._store = store
        self._clock = clock
        self._hasher = hasher
        self._jwt = jwt
        self._sessions = sessions

    def flows(self) -> list[dict[str, Any]]:
        flows: list[dict[str, Any]] = [{"type": PASSWORD}]
        if self._jwt.enabled:
            flows.append({"type": JWT})
        if self._appservices.services:
            flows.append({"type": APPLICATION_SERVICE})
        return flows

    async def login(
        self, body: Mapping[str, Any], device: DeviceRequest, as_token: str | None = None
    ) -> dict[str, Any]:
        kind = body.get("type")
        if kind == PASSWORD:
            user_id = await self._password_user(body)
        elif kind == APPLICATION_SERVICE:
            user_id = await self._appservice_user(body, as_token)
        elif kind == JWT and self._jwt.enabled:
            user_id = await self._jwt_user(body)
        else:
            raise MatrixError(400, "M_UNKNOWN", f"Unknown login type {kind!r}")
        issued = await self._sessions.issue(
            user_id,
            device_id=device.device_id,
            display_name=device.initial_device_display_name,
            refreshable=device.refresh_token,
        )
        return {**issued.to_json(), "home_server": self.server_name}

    async def _password_user(self, body: Mapping[str, Any]) -> str:
        user_id = identified_user(body, self.server_name)
        password = body.get("password")
        if not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
            raise invalid_param("`password` must be a string")
        user = None if user_id is None else await self._store.get_user(user_id)
        stored = None if user is None or user.deactivated else user.password_hash
        if not await self._hasher.check(password, stored) or user is None:
            log.info("login refused", extra=fields(user_id=user_id or "?", reason="password"))
            raise bad_login()
        return user.user_id

    async def _appservice_user(self, body: Mapping[str, Any], as_token: str | None) -> str:
        """spec: client-server "Appservice Login": the ``as_token`` of a service whose
        users namespace holds the (registered) user."""
        if as_token is None:
            raise MatrixError(401, "M_MISSING_TOKEN", "The as_token is required")
        service = self._appservices.by_token(as_token)
        if service is None:
            raise unknown_token()
        user_id = identified_user(body, self.server_name)
        if user_id is None:
            raise invalid_param("`identifier` must name a user")
        if not service.interested_in_user(user_id):
            raise MatrixError(403, "M_EXCLUSIVE", "This user is not in the service's namespace")
        user = await self._store.get_user(user_id)
        if user is None or user.deactivated:
            raise forbidden("The application service has not registered this user")
        return user.user_id

    async def _jwt_user(self, body: Mapping[str, Any]) -> str:
        localpart = self._jwt.localpart(body.get("token"))
        user_id = f"@{localpart}:{self.server_name}"
        user = await self._store.get_user(user_id)
        if user is None:
            self._appservices.check_user_creation(user_id, None)
            try:
                user = await self._store.create_user(user_id, None, self._clock.time_ms())
                log.info("registered", extra=fields(user_id=user_id, via="jwt"))
            except UserExistsError:  # a concurrent first login created it
                user = await self._store.get_user(user_id)
                assert user is not None
        if user.deactivated:
            raise MatrixError(403, "M_USER_DEACTIVATED", "This account has been deactivated")
        return user.user_id
