from __future__ import annotations

from dataclasses import dataclass

import pytest

from homeserver.protocol.signing import SigningKey
from homeserver.rooms.aliases import AliasDirectory
from homeserver.rooms.bus import EventBus, PersistedEvent
from homeserver.rooms.creation import RoomCreator
from homeserver.rooms.pipeline import EventPipeline
from homeserver.rooms.room_state import RoomStateCache
from homeserver.storage.database import Database
from homeserver.storage.store import Store

from ..conftest import FakeClock

SERVER = "hs.test"


@dataclass
class Rooms:
    store: Store
    pipeline: EventPipeline
    creator: RoomCreator
    published: list[PersistedEvent]


async def make_rooms(db: Database, clock: FakeClock) -> Rooms:
    store = Store(db)
    bus = EventBus()
    published: list[PersistedEvent] = []
    bus.subscribe(published.append)
    key = SigningKey.from_seed(SERVER, "a_1", b"\x02" * 32)
    pipeline = EventPipeline(store, RoomStateCache(store), bus, key, clock, SERVER)
    await pipeline.start()
    return Rooms(store, pipeline, RoomCreator(pipeline, AliasDirectory(store, clock)), published)


@pytest.fixture
async def rooms(database: Database, clock: FakeClock) -> Rooms:
    return await make_rooms(database, clock)
