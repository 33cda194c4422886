"""Serves end-to-end encryption: keys, cross-signing, to-device messages, key backups.

``setup(app)`` runs from the sync setup (it needs the notifier, and the accounts'
hooks and UIA); the returned streams are the sync extensions ``to_device`` and
``device_lists`` (which also reports the device's key counts).
"""

from __future__ import annotations

from homeserver.appkeys import BUS_KEY, CLOCK_KEY, CONFIG_KEY, NOTIFIER_KEY, PIPELINE_KEY, STORE_KEY
from homeserver.e2ee.service import E2ee, build_e2ee
from homeserver.http import web

from . import keys, room_keys, to_device
from .accounts_common import ACCOUNTS_KEY
from .e2ee_common import E2EE_KEY


def setup(app: web.Application) -> E2ee:
    accounts = app[ACCOUNTS_KEY]
    built = app[E2EE_KEY] = build_e2ee(
        app[STORE_KEY],
        app[NOTIFIER_KEY],
        app[CLOCK_KEY],
        app[CONFIG_KEY].server_name,
        accounts.user_auth,
        accounts.hooks,
    )
    app[BUS_KEY].subscribe(built.device_lists.on_event)

    async def start(app: web.Application) -> None:
        # Runs after the pipeline's start (registered earlier): its position is known.
        await built.start(app[PIPELINE_KEY].persisted_upto)

    app.on_startup.append(start)
    for module in (keys, to_device, room_keys):
        app.add_routes(module.routes())
    return built
