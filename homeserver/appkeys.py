"""Typed keys for what the application holds (``app[KEY]``), in one place so route
modules can reach their dependencies without importing the composition root."""

from __future__ import annotations

from homeserver.clock import Clock
from homeserver.config import Config
from homeserver.http import web
from homeserver.protocol.signing import SigningKey
from homeserver.push.service import PushService
from homeserver.rooms.aliases import AliasDirectory
from homeserver.rooms.bus import EventBus
from homeserver.rooms.creation import RoomCreator
from homeserver.rooms.pipeline import EventPipeline
from homeserver.rooms.room_state import RoomStateCache
from homeserver.storage.store import Store
from homeserver.sync.account_data import AccountDataHandler
from homeserver.sync.filters import FilterHandler
from homeserver.sync.handler import SyncHandler
from homeserver.sync.notifier import Notifier

CONFIG_KEY = web.AppKey("config", Config)
CLOCK_KEY = web.AppKey("clock", Clock)
SIGNING_KEY = web.AppKey("signing_key", SigningKey)
STORE_KEY = web.AppKey("store", Store)
BUS_KEY = web.AppKey("bus", EventBus)
ROOMS_KEY = web.AppKey("rooms", RoomStateCache)
PIPELINE_KEY = web.AppKey("pipeline", EventPipeline)
ALIASES_KEY = web.AppKey("aliases", AliasDirectory)
ROOM_CREATOR_KEY = web.AppKey("room_creator", RoomCreator)
NOTIFIER_KEY = web.AppKey("notifier", Notifier)
SYNC_HANDLER_KEY = web.AppKey("sync_handler", SyncHandler)
FILTERS_KEY = web.AppKey("filters", FilterHandler)
ACCOUNT_DATA_KEY = web.AppKey("account_data", AccountDataHandler)
PUSH_KEY = web.AppKey("push", PushService)
