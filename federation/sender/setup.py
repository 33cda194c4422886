"""Wires the federation sender and the ephemeral EDUs (typing, receipts, presence,
to-device) into the application.

``setup(app, client)`` runs in ``build_app`` after the sync setup (the typing, receipts,
presence and to-device handlers exist) and before the app starts. The sender starts
after the pipeline (its start hook is registered later) and stops at shutdown, before
the database closes.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from homeserver.api.client.e2ee_common import E2EE_KEY
from homeserver.api.client.presence import PRESENCE_KEY
from homeserver.api.client.receipts import RECEIPTS_KEY
from homeserver.api.client.typing import TYPING_KEY
from homeserver.appkeys import BUS_KEY, CLOCK_KEY, CONFIG_KEY, ROOMS_KEY, STORE_KEY
from homeserver.http import web

from ..appkeys import EDU_REGISTRY_KEY, FEDERATION_SENDER_KEY
from ..edus import EduRegistry
from ..presence_edus import PresenceFederation
from ..receipt_edus import ReceiptFederation
from ..to_device_edus import ToDeviceFederation
from ..typing_edus import TypingFederation
from .queue import TransactionClient
from .sender import FederationSender


@dataclass(frozen=True)
class Outbound:
    sender: FederationSender
    edus: EduRegistry  # inbound EDUs: the inbound /send hands each to ``edus.handle``


def setup(
    app: web.Application,
    client: TransactionClient,
    *,
    domain_whitelist: Collection[str] | None = None,
) -> Outbound:
    store = app[STORE_KEY]
    clock = app[CLOCK_KEY]
    server_name = app[CONFIG_KEY].server_name
    sender = app[FEDERATION_SENDER_KEY] = FederationSender(
        server_name=server_name,
        store=store,
        client=client,
        clock=clock,
        domain_whitelist=domain_whitelist,
    )
    registry = app.get(EDU_REGISTRY_KEY)
    if registry is None:
        registry = app[EDU_REGISTRY_KEY] = EduRegistry()
    app[BUS_KEY].subscribe(sender.on_event)
    rooms = app[ROOMS_KEY]
    TypingFederation(sender, app[TYPING_KEY], rooms, server_name).register(registry)
    ReceiptFederation(sender, app[RECEIPTS_KEY], rooms, server_name).register(registry)
    presence = PresenceFederation(sender, app[PRESENCE_KEY], store, server_name)
    presence.register(registry, app[BUS_KEY])
    ToDeviceFederation(sender, app[E2EE_KEY].to_device, server_name).register(registry)

    async def start(app: web.Application) -> None:
        await sender.start()

    async def stop(app: web.Application) -> None:
        presence.stop()
        await sender.stop()

    app.on_startup.append(start)
    # Shutdown, not cleanup: the store closes in the first cleanup hook.
    app.on_shutdown.append(stop)
    return Outbound(sender, registry)
