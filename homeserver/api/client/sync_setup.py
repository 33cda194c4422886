"""Serves sync: the notifier (subscribed to the event bus), the sync, filter and
account-data handlers, and the routes of ``sync``, ``sync_ws`` and ``account_data``.

``setup(app)`` runs in ``build_app`` after the pipeline and the room state cache
are in place; the notifier learns the streams' positions at start-up, after the
pipeline has read its own.
"""

from __future__ import annotations

from homeserver.appkeys import (
    ACCOUNT_DATA_KEY,
    BUS_KEY,
    CLOCK_KEY,
    CONFIG_KEY,
    FILTERS_KEY,
    NOTIFIER_KEY,
    PIPELINE_KEY,
    ROOMS_KEY,
    STORE_KEY,
    SYNC_HANDLER_KEY,
)
from homeserver.ephemeral.presence import PresenceHandler
from homeserver.ephemeral.receipts import ReceiptsHandler
from homeserver.ephemeral.typing import TypingTracker
from homeserver.http import web
from homeserver.metrics import GaugeFunction
from homeserver.sync.account_data import AccountDataHandler
from homeserver.sync.filters import FilterHandler
from homeserver.sync.handler import SyncHandler
from homeserver.sync.memberships import MembershipCache
from homeserver.sync.notifier import Notifier

from .. import ops
from . import account_data, e2ee_setup, presence, receipts, sync, sync_ws, typing


def setup(app: web.Application) -> Notifier:
    store = app[STORE_KEY]
    notifier = app[NOTIFIER_KEY] = Notifier(MembershipCache(store.rooms.user_memberships))
    app[BUS_KEY].subscribe(notifier.on_event)
    app[SYNC_HANDLER_KEY] = SyncHandler(store, app[ROOMS_KEY], notifier, app[CLOCK_KEY])
    app[FILTERS_KEY] = FilterHandler(store)
    app[ACCOUNT_DATA_KEY] = AccountDataHandler(store, notifier)

    async def start_notifier(app: web.Application) -> None:
        # Runs after the pipeline's start (registered later): its position is known.
        notifier.start(app[PIPELINE_KEY].persisted_upto, await store.account_data.max_stream_id())

    app.on_startup.append(start_notifier)
    typing_tracker = app[typing.TYPING_KEY] = TypingTracker(notifier, app[CLOCK_KEY])
    app[SYNC_HANDLER_KEY].add_extension(typing_tracker)
    receipts_handler = app[receipts.RECEIPTS_KEY] = ReceiptsHandler(
        store, notifier, app[ACCOUNT_DATA_KEY], app[CLOCK_KEY]
    )
    app[SYNC_HANDLER_KEY].add_extension(receipts_handler)

    async def start_receipts(app: web.Application) -> None:
        await receipts_handler.start()

    app.on_startup.append(start_receipts)
    presence_handler = app[presence.PRESENCE_KEY] = PresenceHandler(
        store, notifier, app[CLOCK_KEY], app[CONFIG_KEY].server_name
    )
    app[SYNC_HANDLER_KEY].add_extension(presence_handler)
    app[SYNC_HANDLER_KEY].request_hooks.append(presence_handler.on_sync_request)
    app[BUS_KEY].subscribe(presence_handler.on_event)

    async def start_presence(app: web.Application) -> None:
        await presence_handler.start()

    async def stop_presence(app: web.Application) -> None:
        await presence_handler.stop()

    app.on_startup.append(start_presence)
    app.on_shutdown.append(stop_presence)
    e2ee = e2ee_setup.setup(app)  # to-device messages, device lists and key counts
    app[SYNC_HANDLER_KEY].add_extension(e2ee.to_device)
    app[SYNC_HANDLER_KEY].add_extension(e2ee.device_lists)

    async def release_long_polls(app: web.Application) -> None:
        notifier.release_all()

    app.on_shutdown.append(release_long_polls)
    if ops.METRICS_KEY in app:
        # DESIGN.md "Operations": sync wake-ups, read from the notifier at scrape time.
        registry = app[ops.METRICS_KEY].registry
        registry.register(
            GaugeFunction(
                "concord_sync_wakeups",
                "Long-polling syncs woken by news",
                lambda: notifier.wakeups,
                kind="counter",
            )
        )
        registry.register(
            GaugeFunction(
                "concord_sync_waiting", "Syncs parked waiting for news", lambda: notifier.waiting
            )
        )
    for module in (sync, sync_ws, account_data, typing, receipts, presence):
        app.add_routes(module.routes())
    return notifier
