"""Serves profiles, the user directory, OpenID tokens, capabilities and content
reports: builds their handlers and registers the routes of ``profile``,
``user_directory``, ``openid``, ``capabilities`` and ``reports``.

``setup(app)`` runs in ``build_app`` after ``rooms_setup.setup`` (propagation sends
member events through the membership handler). The user directory's indexer starts
with the app and stops at shutdown.
"""

from __future__ import annotations

from homeserver.accounts.openid import OpenIdTokens
from homeserver.appkeys import BUS_KEY, CLOCK_KEY, CONFIG_KEY, ROOMS_KEY, STORE_KEY
from homeserver.http import web
from homeserver.profiles.directory import UserDirectory
from homeserver.profiles.handler import ProfileHandler
from homeserver.rooms.reports import ReportHandler

from . import capabilities, openid, profile, reports, user_directory
from .profiles_common import USER_HANDLERS_KEY, UserHandlers
from .rooms_common import ROOM_HANDLERS_KEY

__all__ = ["USER_HANDLERS_KEY", "UserHandlers", "setup"]


def setup(app: web.Application) -> UserHandlers:
    store, clock = app[STORE_KEY], app[CLOCK_KEY]
    server_name = app[CONFIG_KEY].server_name
    rooms = app[ROOM_HANDLERS_KEY]
    directory = UserDirectory(store, app[BUS_KEY], server_name)
    built = app[USER_HANDLERS_KEY] = UserHandlers(
        profiles=ProfileHandler(store, rooms.membership, server_name),
        directory=directory,
        openid=OpenIdTokens(store.openid, clock, server_name),
        reports=ReportHandler(store, app[ROOMS_KEY], rooms.access, clock, server_name),
    )

    async def start_directory(app: web.Application) -> None:
        directory.start()

    async def stop_directory(app: web.Application) -> None:
        await directory.stop()

    app.on_startup.append(start_directory)
    app.on_shutdown.append(stop_directory)
    for module in (profile, user_directory, openid, capabilities, reports):
        app.add_routes(module.routes())
    return built
