"""Wires the steward (DESIGN.md "Concord layer") and the ``im.concord`` guild routes.

``setup(app)`` runs in ``build_app`` after the room handlers exist; the steward's
account is made and its worker started (with a catch-up of every guild) when the
server starts, and stopped when it shuts down.
"""

from __future__ import annotations

from homeserver.appkeys import (
    BUS_KEY,
    CLOCK_KEY,
    CONFIG_KEY,
    PIPELINE_KEY,
    ROOM_CREATOR_KEY,
    ROOMS_KEY,
    STORE_KEY,
)
from homeserver.http import web
from homeserver.steward.account import ensure_steward_account
from homeserver.steward.context import GuildDeps
from homeserver.steward.guilds import GuildActions
from homeserver.steward.layout import LayoutActions
from homeserver.steward.reconcile import Reconciler
from homeserver.steward.service import Steward

from . import concord
from .rooms_common import ROOM_HANDLERS_KEY

STEWARD_KEY = web.AppKey("steward", Steward)


def setup(app: web.Application) -> Steward:
    config, store = app[CONFIG_KEY], app[STORE_KEY]
    steward_id = f"@{config.concord.steward_localpart}:{config.server_name}"
    membership = app[ROOM_HANDLERS_KEY].membership
    reconciler = Reconciler(
        app[ROOMS_KEY],
        app[PIPELINE_KEY],
        membership,
        steward=steward_id,
        sfu_user_id=config.concord.sfu_user_id,
        sfu_power_level=config.concord.sfu_power_level,
    )
    steward = app[STEWARD_KEY] = Steward(store, reconciler)
    app[BUS_KEY].subscribe(steward.on_event)
    deps = GuildDeps(
        rooms=app[ROOMS_KEY],
        pipeline=app[PIPELINE_KEY],
        membership=membership,
        creator=app[ROOM_CREATOR_KEY],
        steward=steward,
        reconciler=reconciler,
    )
    app[concord.GUILD_ACTIONS_KEY] = GuildActions(deps)
    app[concord.LAYOUT_ACTIONS_KEY] = LayoutActions(deps)

    async def start(app: web.Application) -> None:
        await ensure_steward_account(store.accounts, steward_id, app[CLOCK_KEY])
        steward.start()

    async def stop(app: web.Application) -> None:
        await steward.stop()

    app.on_startup.append(start)
    app.on_shutdown.append(stop)
    app.add_routes(concord.routes())
    return steward
