"""What the accounts code knows of application services: who holds which ``as_token``,
which namespaces are exclusive, and who a request authenticated with an ``as_token`` acts
as.

The registrations themselves are parsed by ``appservice.registration``; its wiring
installs them here (``AppServiceDirectory.install``), so this module only depends on the
few attributes it reads (``AppService``).

spec: application-service-api "Identity assertion", "Server admin style permissions".
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Protocol

from homeserver.errors import MatrixError
from homeserver.storage.accounts_store import AccountsStore

from .requester import Requester
from .tokens import token_hash

__all__ = ["AppService", "AppServiceDirectory", "exclusive"]


class AppService(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def as_token(self) -> str: ...
    @property
    def sender(self) -> str: ...
    @property
    def rate_limited(self) -> bool: ...

    def interested_in_user(self, user_id: str) -> bool: ...
    def exclusive_user(self, user_id: str) -> bool: ...
    def interested_in_alias(self, alias: str) -> bool: ...
    def exclusive_alias(self, alias: str) -> bool: ...


def exclusive(message: str) -> MatrixError:
    return MatrixError(400, "M_EXCLUSIVE", message)


class AppServiceDirectory:
    """The configured application services, looked up by token, id or namespace."""

    def __init__(self, services: Sequence[AppService] = ()) -> None:
        self._services: tuple[AppService, ...] = ()
        self._by_token: dict[str, AppService] = {}
        self.install(services)

    def install(self, services: Sequence[AppService]) -> None:
        self._services = tuple(services)
        self._by_token = {token_hash(s.as_token): s for s in self._services}

    @property
    def services(self) -> tuple[AppService, ...]:
        return self._services

    def by_token(self, token: str) -> AppService | None:
        """The service whose ``as_token`` this is (looked up by hash, compared in
        constant time)."""
        service = self._by_token.get(token_hash(token))
        if service is None or not hmac.compare_digest(
            service.as_token.encode("utf-8"), token.encode("utf-8")
        ):
            return None
        return service

    def by_id(self, service_id: str) -> AppService | None:
        return next((s for s in self._services if s.id == service_id), None)

    def user_owner(self, user_id: str) -> AppService | None:
        """The service holding ``user_id`` exclusively (its namespace or its sender)."""
        return next((s for s in self._services if s.exclusive_user(user_id)), None)

    def alias_owner(self, alias: str) -> AppService | None:
        return next((s for s in self._services if s.exclusive_alias(alias)), None)

    def check_user_creation(self, user_id: str, service: AppService | None) -> None:
        """400 ``M_EXCLUSIVE`` unless ``service`` may create ``user_id``: an application
        service only in its own users namespace; anyone else only outside every
        exclusive one."""
        if service is not None:
            if not service.interested_in_user(user_id):
                raise exclusive("This user id is not in the application service's namespace")
            return
        if self.user_owner(user_id) is not None:
            raise exclusive("This user id is reserved by an application service")

    def check_alias_creation(self, user_id: str, alias: str) -> None:
        """400 ``M_EXCLUSIVE`` when ``alias`` is in a service's exclusive aliases
        namespace and ``user_id`` is not one of that service's users (its sender or a
        user in its namespace)."""
        owner = self.alias_owner(alias)
        if owner is not None and not owner.interested_in_user(user_id):
            raise exclusive("This alias is reserved by an application service")

    async def requester(
        self,
        service: AppService,
        store: AccountsStore,
        user_id: str | None,
        device_id: str | None,
    ) -> Requester:
        """Who a request with ``service``'s ``as_token`` acts as: ``user_id`` (its
        namespace) or the sender; ``device_id`` one of that user's devices."""
        target = user_id or service.sender
        if not service.interested_in_user(target):
            raise MatrixError(
                403, "M_EXCLUSIVE", "The application service cannot masquerade as this user"
            )
        user = await store.get_user(target)
        if user is None or user.deactivated:
            raise MatrixError(
                403, "M_FORBIDDEN", "The application service has not registered this user"
            )
        if device_id is not None and await store.get_device(target, device_id) is None:
            raise MatrixError(400, "M_UNKNOWN_DEVICE", "No such device for this user")
        return Requester(
            target,
            device_id or "",
            token_hash(service.as_token),
            user.is_admin,
            appservice_id=service.id,
        )
