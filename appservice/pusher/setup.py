"""Wires the application-service pusher into the application.

``setup(app, registrations)`` runs in ``build_app`` after ``appservice.setup`` (its
``AppServiceClient`` is used) and the sync and e2ee setup (the typing, receipts,
presence, to-device and device-list handlers exist). The pusher starts with the
app and stops at shutdown, before the database closes; what it has not sent is in the
database and goes out after the next start.
"""

from __future__ import annotations

from collections.abc import Sequence

from homeserver.api.client.e2ee_common import E2EE_KEY
from homeserver.api.client.presence import PRESENCE_KEY
from homeserver.api.client.receipts import RECEIPTS_KEY
from homeserver.api.client.typing import TYPING_KEY
from homeserver.appkeys import BUS_KEY, CLOCK_KEY, STORE_KEY
from homeserver.http import web

from ..appkeys import CLIENT_KEY
from ..registration import Registration
from .pusher import AppServicePusher

PUSHER_KEY = web.AppKey("appservice_pusher", AppServicePusher)


def setup(app: web.Application, registrations: Sequence[Registration]) -> AppServicePusher:
    typing = app[TYPING_KEY]
    pusher = app[PUSHER_KEY] = AppServicePusher(
        registrations,
        store=app[STORE_KEY],
        client=app[CLIENT_KEY],  # appservice.setup's, closed at cleanup
        clock=app[CLOCK_KEY],
        typing_in=typing.typing_in,
    )
    if not pusher.queues:
        return pusher  # nothing to push to: no listeners, no tasks
    app[BUS_KEY].subscribe(pusher.on_event)
    typing.listeners.append(pusher.on_typing)
    app[RECEIPTS_KEY].listeners.append(pusher.on_receipt)
    app[PRESENCE_KEY].listeners.append(pusher.on_presence)
    e2ee = app[E2EE_KEY]
    e2ee.to_device.listeners.append(pusher.on_to_device)
    e2ee.device_lists.change_listeners.append(pusher.on_device_lists)

    async def start(app: web.Application) -> None:
        await pusher.start()

    async def stop(app: web.Application) -> None:
        await pusher.stop()

    app.on_startup.append(start)
    # Shutdown, not cleanup: the store closes in the first cleanup hook.
    app.on_shutdown.append(stop)
    return pusher
