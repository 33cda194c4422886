"""Serves the room endpoints: builds their handlers over the app's pipeline and
registers the routes of ``rooms``, ``room_state``, ``messages`` and ``directory``.

``setup(app)`` runs in ``build_app`` after the pipeline, room state cache, alias
directory and room creator are in place.
"""

from __future__ import annotations

from homeserver.appkeys import (
    ALIASES_KEY,
    CLOCK_KEY,
    PIPELINE_KEY,
    ROOM_CREATOR_KEY,
    ROOMS_KEY,
    STORE_KEY,
)
from homeserver.http import web
from homeserver.rooms.access import RoomAccess
from homeserver.rooms.directory import DirectoryHandler
from homeserver.rooms.events_view import EventRenderer
from homeserver.rooms.membership import MembershipHandler
from homeserver.rooms.messages import MessagesHandler
from homeserver.rooms.sending import SendHandler
from homeserver.rooms.state_reads import StateReader
from homeserver.rooms.upgrade import RoomUpgrader

from . import directory, messages, room_state, rooms
from .rooms_common import ROOM_HANDLERS_KEY, RoomHandlers

__all__ = ["ROOM_HANDLERS_KEY", "RoomHandlers", "build_handlers", "setup"]


def build_handlers(app: web.Application) -> RoomHandlers:
    store, room_cache, pipeline = app[STORE_KEY], app[ROOMS_KEY], app[PIPELINE_KEY]
    aliases = app[ALIASES_KEY]
    access = RoomAccess(store, room_cache)
    renderer = EventRenderer(store, app[CLOCK_KEY])
    membership = MembershipHandler(store, room_cache, pipeline, aliases)
    pager = MessagesHandler(store, access, renderer)
    return RoomHandlers(
        creator=app[ROOM_CREATOR_KEY],
        access=access,
        membership=membership,
        sending=SendHandler(room_cache, pipeline, aliases),
        messages=pager,
        state=StateReader(store, room_cache, access, renderer, pager),
        directory=DirectoryHandler(room_cache, pipeline, aliases, access, membership),
        upgrader=RoomUpgrader(room_cache, pipeline, aliases, membership),
    )


def setup(app: web.Application) -> RoomHandlers:
    built = app[ROOM_HANDLERS_KEY] = build_handlers(app)
    for module in (rooms, room_state, messages, directory):
        app.add_routes(module.routes())
    return built
