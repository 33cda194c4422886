"""Wires federation queries, remote device lists and space hierarchies into the app.

``setup`` runs in ``homeserver/app.py`` when federation is on, after the client API
(profiles, rooms, e2ee, hierarchy) is set up. It

- serves the federation endpoints of ``query_routes`` and ``e2ee_routes``;
- lets the client API ask other servers (``RemoteCaller``): remote profiles, aliases,
  room directories, keys, space children;
- caches remote device lists, fed by ``m.device_list_update`` / ``m.signing_key_update``
  (registered with the ``EduRegistry``), and sends those EDUs for local users' changes
  (through the ``FederationSender``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from homeserver.api.client.accounts_common import ACCOUNTS_KEY
from homeserver.api.client.e2ee_common import E2EE_KEY
from homeserver.api.client.hierarchy import HIERARCHY_KEY
from homeserver.api.client.profiles_common import USER_HANDLERS_KEY
from homeserver.api.client.rooms_common import ROOM_HANDLERS_KEY
from homeserver.appkeys import BUS_KEY, CLOCK_KEY, CONFIG_KEY, STORE_KEY
from homeserver.e2ee.device_list_sender import DeviceListSender
from homeserver.e2ee.remote_device_lists import (
    DEVICE_LIST_UPDATE,
    SIGNING_KEY_UPDATE,
    RemoteDeviceLists,
)
from homeserver.e2ee.remote_keys import RemoteKeys
from homeserver.http import web
from homeserver.profiles.remote import RemoteProfiles
from homeserver.remote import EduSender, RemoteCaller

from . import e2ee_routes, query_routes
from .e2ee_routes import E2EE_SERVICES, E2eeServices
from .query_routes import QUERY_SERVICES, Authenticate, QueryServices

EduHandler = Callable[[str, Mapping[str, Any]], Awaitable[None]]

REMOTE_DEVICE_LISTS_KEY = web.AppKey("remote_device_lists", RemoteDeviceLists)
DEVICE_LIST_SENDER_KEY = web.AppKey("device_list_sender", DeviceListSender)


class EduHandlers(Protocol):
    """``federation.edus.EduRegistry``."""

    def register(self, edu_type: str, handler: EduHandler) -> None: ...


def setup(
    app: web.Application,
    *,
    remote: RemoteCaller,
    sender: EduSender | None,
    edus: EduHandlers | None,
    authenticated: Authenticate,
) -> RemoteDeviceLists:
    """``sender`` and ``edus`` None (no outbound sender / inbound ``/send`` yet): device
    lists are neither announced nor followed by EDU, only fetched with queries."""
    config, store, clock = app[CONFIG_KEY], app[STORE_KEY], app[CLOCK_KEY]
    server_name = config.server_name
    users, rooms, e2ee = app[USER_HANDLERS_KEY], app[ROOM_HANDLERS_KEY], app[E2EE_KEY]
    hierarchy = app[HIERARCHY_KEY]
    lists = app[REMOTE_DEVICE_LISTS_KEY] = RemoteDeviceLists(
        store, e2ee.device_lists, clock, server_name, remote
    )
    app[BUS_KEY].subscribe(lists.on_event)
    outbound = app[DEVICE_LIST_SENDER_KEY] = DeviceListSender(store, sender, server_name)
    e2ee.device_lists.change_listeners.append(outbound.on_change)
    # A new device name is news to other servers (not to local clients' device lists).
    app[ACCOUNTS_KEY].hooks.device_renamed.append(
        lambda user_id, device_id: outbound.on_change([user_id])
    )
    connect(app, remote=remote, sender=sender, edus=edus)

    async def stop(app: web.Application) -> None:
        await lists.stop()

    app.on_shutdown.append(stop)

    # What other servers ask of us.
    app[QUERY_SERVICES] = QueryServices(server_name, users.profiles, rooms.directory, hierarchy)
    app[E2EE_SERVICES] = E2eeServices(server_name, e2ee.keys, outbound)
    app.add_routes(query_routes.routes(authenticated))
    app.add_routes(e2ee_routes.routes(authenticated))
    return lists


def connect(
    app: web.Application,
    *,
    remote: RemoteCaller,
    sender: EduSender | None,
    edus: EduHandlers | None,
) -> None:
    """Attach (or replace) the edges to other servers: how the client API asks them,
    how EDUs go out, where inbound EDUs are dispatched from."""
    lists, outbound = app[REMOTE_DEVICE_LISTS_KEY], app[DEVICE_LIST_SENDER_KEY]
    app[USER_HANDLERS_KEY].profiles.remote = RemoteProfiles(remote, app[CLOCK_KEY])
    app[ROOM_HANDLERS_KEY].directory.remote = remote
    app[HIERARCHY_KEY].remote = remote
    lists.remote = remote
    app[E2EE_KEY].keys.remote = RemoteKeys(remote, lists)
    outbound.sender = sender
    if edus is not None:
        edus.register(DEVICE_LIST_UPDATE, lists.on_device_list_update)
        edus.register(SIGNING_KEY_UPDATE, lists.on_signing_key_update)
