"""Asking application services about users, aliases and third-party networks.

spec: application-service-api "Querying" ("Query User", "Query Room Alias") and
"Third-party networks"; client-server "Application service ping" is in ``ping.py``.
An unknown local user or alias inside a service's namespace is asked of that service
(``GET /_matrix/app/v1/users/{userId}`` / ``/rooms/{roomAlias}``); a 200 means it has
created it with the client-server API meanwhile, so the caller looks again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from homeserver.logs import fields
from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.ids import server_name_of

from .client import AppServiceClient, AppServiceUnreachable, path_segment
from .registration import Registration

log = logging.getLogger(__name__)

QUERY_TIMEOUT_S = 15.0

Exists = Callable[[str], Awaitable[bool]]


class AppServiceQueries:
    def __init__(
        self,
        registrations: Sequence[Registration],
        client: AppServiceClient,
        server_name: str,
        *,
        user_exists: Exists,
        alias_exists: Exists,
    ) -> None:
        self.registrations = tuple(registrations)
        self.client = client
        self.server_name = server_name
        self._user_exists = user_exists
        self._alias_exists = alias_exists

    def _is_local(self, identifier: str) -> bool:
        try:
            return server_name_of(identifier) == self.server_name
        except InvalidIdentifier:
            return False

    async def _ask(self, reg: Registration, path: str, what: str) -> bool:
        """True when the service answered 200."""
        try:
            response = await self.client.request(reg, "GET", path, timeout=QUERY_TIMEOUT_S)
        except AppServiceUnreachable as exc:
            log.info("appservice query failed", extra=fields(appservice=reg.id, error=str(exc)))
            return False
        if response.status != 200:
            log.debug(
                "appservice query refused",
                extra=fields(appservice=reg.id, what=what, status=response.status),
            )
        return response.status == 200

    async def query_user(self, user_id: str) -> bool:
        """Whether the local ``user_id`` exists, after asking the services whose users
        namespace holds it (the sender is never asked: it always exists)."""
        if not self._is_local(user_id):
            return False
        if await self._user_exists(user_id):
            return True
        path = "/_matrix/app/v1/users/" + path_segment(user_id)
        for reg in self.registrations:
            if reg.url is None or not any(ns.matches(user_id) for ns in reg.users):
                continue
            if await self._ask(reg, path, user_id) and await self._user_exists(user_id):
                return True
        return False

    async def query_alias(self, alias: str) -> bool:
        """Ask the services whose aliases namespace holds the unknown local ``alias``;
        True when one answered 200 (the caller resolves it again)."""
        if not self._is_local(alias):
            return False
        path = "/_matrix/app/v1/rooms/" + path_segment(alias)
        for reg in self.registrations:
            if reg.url is None or not reg.interested_in_alias(alias):
                continue
            if await self._ask(reg, path, alias) and await self._alias_exists(alias):
                return True
        return False

    # ------------------------------------------------------------------ third party

    def services_for(self, protocol: str) -> list[Registration]:
        return [r for r in self.registrations if protocol in r.protocols and r.url is not None]

    async def protocol_metadata(self, protocol: str) -> dict[str, Any] | None:
        """The first answer of a service providing ``protocol`` (``instances`` of every
        one merged), None when none answered."""
        found: dict[str, Any] | None = None
        path = "/_matrix/app/v1/thirdparty/protocol/" + path_segment(protocol)
        for reg in self.services_for(protocol):
            answer = await self._json(reg, path, None)
            if not isinstance(answer, dict):
                continue
            instances = answer.get("instances")
            instances = (
                [i for i in instances if isinstance(i, dict)] if isinstance(instances, list) else []
            )
            for instance in instances:
                # Client-server "Protocol Instance": an id unique on this server.
                instance["instance_id"] = f"{reg.id}|{instance.get('network_id', '')}"
            if found is None:
                found = {**answer, "instances": instances}
            else:
                found["instances"].extend(instances)
        return found

    async def all_protocols(self) -> dict[str, Any]:
        names = dict.fromkeys(p for r in self.registrations for p in r.protocols)
        out: dict[str, Any] = {}
        for name in names:
            meta = await self.protocol_metadata(name)
            if meta is not None:
                out[name] = meta
        return out

    async def lookup(
        self, kind: str, protocol: str | None, query: dict[str, str]
    ) -> list[dict[str, Any]]:
        """``kind`` is ``user`` or ``location``: with a protocol, the services providing
        it are asked with the fields; without, by ``userid`` / ``alias``."""
        if protocol is not None:
            services = self.services_for(protocol)
            path = f"/_matrix/app/v1/thirdparty/{kind}/" + path_segment(protocol)
        else:
            services = [r for r in self.registrations if r.url is not None and r.protocols]
            path = f"/_matrix/app/v1/thirdparty/{kind}"
        results: list[dict[str, Any]] = []
        for reg in services:
            answer = await self._json(reg, path, query)
            if isinstance(answer, list):
                results.extend(a for a in answer if isinstance(a, dict))
        return results

    async def _json(self, reg: Registration, path: str, query: dict[str, str] | None) -> Any:
        try:
            response = await self.client.request(
                reg, "GET", path, query=query, timeout=QUERY_TIMEOUT_S
            )
        except AppServiceUnreachable as exc:
            log.info("appservice query failed", extra=fields(appservice=reg.id, error=str(exc)))
            return None
        if response.status != 200:
            return None
        return response.json()
