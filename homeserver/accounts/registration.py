"""Account registration. spec: client-server ``POST /register``, ``GET /register/available``,
"Token-authenticated registration".

Registration is open (``m.login.dummy``) when ``enable_registration`` is set, and
token-gated (``m.login.registration_token``) when ``registration_tokens`` are configured;
otherwise it is closed (403). Usernames are checked before user-interactive auth, as the
spec requires, and again when the account is created.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeserver.clock import Clock
from homeserver.logs import fields
from homeserver.protocol.ids import MAX_ID_BYTES, is_valid_localpart
from homeserver.storage.accounts_store import AccountsStore, UserExistsError, UserRecord

from .appservices import AppService, AppServiceDirectory
from .errors import forbidden, invalid_username, user_in_use
from .passwords import PasswordHasher
from .sessions import Sessions
from .tokens import new_localpart
from .uia import DUMMY, REGISTRATION_TOKEN, Stage, StageFailed, UserInteractiveAuth

log = logging.getLogger(__name__)

ENDPOINT = "POST /register"


def user_id_for(username: str, server_name: str) -> str:
    """The user id a requested username maps to: lowercased, strict grammar, 255 bytes."""
    localpart = username.lower()
    if not is_valid_localpart(localpart):
        raise invalid_username(
            "User names may only contain a-z, 0-9 and the characters . _ = - / +"
        )
    user_id = f"@{localpart}:{server_name}"
    if len(user_id.encode("utf-8")) > MAX_ID_BYTES:
        raise invalid_username(f"The user id would be longer than {MAX_ID_BYTES} bytes")
    return user_id


@dataclass(frozen=True, slots=True)
class RegistrationRequest:
    username: str | None
    password: str | None
    device_id: str | None
    initial_device_display_name: str | None
    inhibit_login: bool
    refresh_token: bool
    auth: object


class Registration:
    def __init__(
        self,
        *,
        server_name: str,
        enable_registration: bool,
        registration_tokens: tuple[str, ...],
        store: AccountsStore,
        clock: Clock,
        hasher: PasswordHasher,
        sessions: Sessions,
        uia: UserInteractiveAuth,
        appservices: AppServiceDirectory | None = None,
    ) -> None:
        self.server_name = server_name
        self._appservices = appservices or AppServiceDirectory()
        self._open = enable_registration
        self._tokens = registration_tokens
        self._store = store
        self._clock = clock
        self._hasher = hasher
        self._sessions = sessions
        self._uia = uia

    def flows(self) -> list[list[str]]:
        flows = []
        if self._open:
            flows.append([DUMMY])
        if self._tokens:
            flows.append([REGISTRATION_TOKEN])
        return flows

    def token_is_valid(self, token: object) -> bool:
        if not isinstance(token, str):
            return False
        encoded = token.encode("utf-8")
        # Compare against every token, in constant time each.
        matches = [hmac.compare_digest(encoded, known.encode("utf-8")) for known in self._tokens]
        return any(matches)

    @property
    def token_registration_enabled(self) -> bool:
        return bool(self._tokens)

    async def check_available(self, username: str) -> str:
        """The user id ``username`` would get; ``M_INVALID_USERNAME``/``M_USER_IN_USE``."""
        if not self.flows():
            raise forbidden("Registration is disabled")
        user_id = user_id_for(username, self.server_name)
        self._appservices.check_user_creation(user_id, None)
        if await self._store.user_exists(user_id):
            raise user_in_use()
        return user_id

    async def register_appservice(
        self, service: AppService, request: RegistrationRequest
    ) -> dict[str, Any]:
        """``m.login.application_service``: no user-interactive auth, no password; the
        user id must be in the service's users namespace (400 ``M_EXCLUSIVE``).
        spec: application-service-api "Server admin style permissions"."""
        if request.username is None:
            raise invalid_username("`username` is required")
        user_id = user_id_for(request.username, self.server_name)
        self._appservices.check_user_creation(user_id, service)
        try:
            await self._store.create_user(
                user_id, None, self._clock.time_ms(), appservice_id=service.id
            )
        except UserExistsError:
            raise user_in_use() from None
        log.info("registered", extra=fields(user_id=user_id, appservice=service.id))
        body: dict[str, Any] = {"user_id": user_id, "home_server": self.server_name}
        if request.inhibit_login:
            return body
        issued = await self._sessions.issue(
            user_id,
            device_id=request.device_id,
            display_name=request.initial_device_display_name,
            refreshable=request.refresh_token,
        )
        return {**issued.to_json(), "home_server": self.server_name}

    async def register(self, request: RegistrationRequest) -> dict[str, Any]:
        flows = self.flows()
        if not flows:
            raise forbidden("Registration is disabled")
        if request.username is not None:
            user_id = await self.check_available(request.username)
        else:
            user_id = None

        async def dummy(auth: Mapping[str, Any]) -> None:
            return None

        async def registration_token(auth: Mapping[str, Any]) -> None:
            if not self.token_is_valid(auth.get("token")):
                raise StageFailed("M_FORBIDDEN", "Invalid registration token")

        stages: dict[str, Stage] = {DUMMY: dummy, REGISTRATION_TOKEN: registration_token}
        await self._uia.authenticate(request.auth, endpoint=ENDPOINT, flows=flows, stages=stages)

        password_hash = (
            None if request.password is None else await self._hasher.hash(request.password)
        )
        user = await self._create(user_id, password_hash)
        log.info("registered", extra=fields(user_id=user.user_id))
        body: dict[str, Any] = {"user_id": user.user_id, "home_server": self.server_name}
        if request.inhibit_login:
            return body
        issued = await self._sessions.issue(
            user.user_id,
            device_id=request.device_id,
            display_name=request.initial_device_display_name,
            refreshable=request.refresh_token,
        )
        return {**issued.to_json(), "home_server": self.server_name}

    async def _create(self, user_id: str | None, password_hash: str | None) -> UserRecord:
        now = self._clock.time_ms()
        if user_id is not None:
            try:
                return await self._store.create_user(user_id, password_hash, now)
            except UserExistsError:
                # Taken while the client was completing auth.
                raise user_in_use() from None
        for _ in range(10):
            try:
                generated = f"@{new_localpart()}:{self.server_name}"
                return await self._store.create_user(generated, password_hash, now)
            except UserExistsError:
                continue
        raise RuntimeError("could not generate a free user id")
