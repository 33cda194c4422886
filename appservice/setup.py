"""Wires the application service API into the application.

``setup(app, registrations)`` runs at the end of ``build_app`` (homeserver/app.py), when
the accounts, rooms and profiles handlers exist. It installs the registrations where the
homeserver looks them up (as_token authentication, exclusive namespaces, rate limits),
the user and alias queries, the ``/thirdparty`` and ``/ping`` routes, and creates each
service's sender account at start.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from homeserver.api.auth import AUTH_KEY
from homeserver.api.client.profiles_common import USER_HANDLERS_KEY
from homeserver.api.client.rooms_common import ROOM_HANDLERS_KEY
from homeserver.api.limits import LIMITERS_KEY
from homeserver.appkeys import ALIASES_KEY, CLOCK_KEY, CONFIG_KEY, STORE_KEY
from homeserver.http import web
from homeserver.logs import fields
from homeserver.storage.accounts_store import UserExistsError

from . import routes
from .appkeys import CLIENT_KEY, QUERIES_KEY, REGISTRATIONS_KEY
from .client import AppServiceClient
from .queries import AppServiceQueries
from .registration import Registration

__all__ = ["setup"]

log = logging.getLogger(__name__)


def setup(app: web.Application, registrations: Sequence[Registration]) -> None:
    regs = tuple(registrations)
    app[REGISTRATIONS_KEY] = regs
    directory = app[AUTH_KEY].appservices
    directory.install(regs)
    store = app[STORE_KEY]
    aliases = app[ALIASES_KEY]
    client = app[CLIENT_KEY] = AppServiceClient()

    async def alias_exists(alias: str) -> bool:
        return await aliases.resolve_local(alias) is not None

    queries = app[QUERIES_KEY] = AppServiceQueries(
        regs,
        client,
        app[CONFIG_KEY].server_name,
        user_exists=store.accounts.user_exists,
        alias_exists=alias_exists,
    )
    app.add_routes(routes.routes())

    async def close_client(app: web.Application) -> None:
        await client.close()

    app.on_cleanup.append(close_client)
    if not regs:
        return

    # spec: registration `rate_limited`: "Whether requests from masqueraded users are
    # rate-limited. The sender is excluded."
    def bucket(token: str, user_id: str | None) -> str | None:
        service = directory.by_token(token)
        if service is None:
            return None
        if not service.rate_limited or user_id is None or user_id == service.sender:
            return ""
        return f"as:{service.id}:{user_id}"

    app[LIMITERS_KEY].appservice_bucket = bucket
    aliases.guard = directory.check_alias_creation
    aliases.query_unknown = queries.query_alias
    app[ROOM_HANDLERS_KEY].membership.query_unknown_user = queries.query_user
    app[ROOM_HANDLERS_KEY].creator.query_unknown_user = queries.query_user
    app[USER_HANDLERS_KEY].profiles.query_unknown_user = queries.query_user

    async def create_senders(app: web.Application) -> None:
        now = app[CLOCK_KEY].time_ms()
        for reg in regs:
            if await store.accounts.user_exists(reg.sender):
                continue
            try:
                await store.accounts.create_user(reg.sender, None, now, appservice_id=reg.id)
            except UserExistsError:
                continue
            log.info("appservice sender created", extra=fields(user_id=reg.sender, id=reg.id))

    app.on_startup.append(create_senders)
