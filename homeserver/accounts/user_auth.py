"""User-interactive auth for a logged-in user re-confirming who they are.

Used by password change, deactivation and device deletion. The user proves it with their
password (``m.login.password``) or, when JWT login is on, a fresh JWT for the same user
(``org.matrix.login.jwt``, for accounts that have no password).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeserver.errors import MatrixError
from homeserver.storage.accounts_store import AccountsStore

from .identifiers import identified_user
from .jwt_auth import JwtVerifier
from .passwords import PasswordHasher
from .requester import Requester
from .uia import JWT, PASSWORD, Stage, StageFailed, UserInteractiveAuth


class UserAuth:
    def __init__(
        self,
        uia: UserInteractiveAuth,
        store: AccountsStore,
        hasher: PasswordHasher,
        jwt: JwtVerifier,
        server_name: str,
    ) -> None:
        self._uia = uia
        self._store = store
        self._hasher = hasher
        self._jwt = jwt
        self._server_name = server_name

    async def confirm(self, requester: Requester, auth: object, endpoint: str) -> None:
        """Return when UIA is complete; raise ``UiaRequired`` (401) until then."""
        user = await self._store.get_user(requester.user_id)
        flows: list[list[str]] = []
        stages: dict[str, Stage] = {}
        if user is not None and user.password_hash is not None:
            stored_hash = user.password_hash

            async def password(auth: Mapping[str, Any]) -> None:
                try:
                    user_id = identified_user(auth, self._server_name)
                except MatrixError as exc:
                    raise StageFailed(exc.errcode, exc.message) from None
                given = auth.get("password")
                if not isinstance(given, str):
                    raise StageFailed("M_MISSING_PARAM", "`password` is required")
                ok = await self._hasher.check(given, stored_hash)
                if not ok or user_id != requester.user_id:
                    raise StageFailed("M_FORBIDDEN", "Invalid password")

            flows.append([PASSWORD])
            stages[PASSWORD] = password
        if self._jwt.enabled:

            async def jwt(auth: Mapping[str, Any]) -> None:
                try:
                    localpart = self._jwt.localpart(auth.get("token"))
                except MatrixError as exc:
                    raise StageFailed(exc.errcode, exc.message) from None
                if f"@{localpart}:{self._server_name}" != requester.user_id:
                    raise StageFailed("M_FORBIDDEN", "The JWT names another user")

            flows.append([JWT])
            stages[JWT] = jwt
        if not flows:
            raise MatrixError(403, "M_FORBIDDEN", "This account has no way to confirm its identity")
        await self._uia.authenticate(
            auth, endpoint=endpoint, flows=flows, stages=stages, user_id=requester.user_id
        )
