"""What the pipeline keeps in memory per room: version, extremities, current state.

Loaded from the database on first use and updated by the pipeline after each
commit, so a local send needs no state query at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from homeserver.lru import LruCache
from homeserver.protocol.events import Event
from homeserver.protocol.power_levels import INFINITE_POWER, PowerLevels, room_creators
from homeserver.protocol.room_versions import RoomVersion, room_version
from homeserver.storage import events_store, rooms_store, state_store
from homeserver.storage.database import Txn
from homeserver.storage.store import Store

StateKey = tuple[str, str]


@dataclass
class RoomInfo:
    room_id: str
    version: RoomVersion
    extremities: list[str]
    max_depth: int
    # The state group holding ``state`` (None: not stored as one group yet).
    current_group: int | None
    state: dict[StateKey, str] = field(default_factory=dict)


def _load_room(txn: Txn, room_id: str) -> RoomInfo | None:
    version_id = rooms_store.get_room_version(txn, room_id)
    if version_id is None:
        return None
    extremities = events_store.get_forward_extremities(txn, room_id)
    state = state_store.get_current_state_ids(txn, room_id)
    max_depth = 0
    current_group: int | None = None
    if extremities:
        rows = txn.fetchall(
            "SELECT depth, COALESCE(state_group_current, state_group_after) FROM events"
            f" WHERE event_id IN {txn.in_list(extremities)}",
            extremities,
        )
        max_depth = max((row[0] for row in rows), default=0)
        groups = {row[1] for row in rows}
        if len(rows) == 1 and None not in groups:
            current_group = rows[0][1]
    return RoomInfo(
        room_id=room_id,
        version=room_version(version_id),
        extremities=extremities,
        max_depth=max_depth,
        current_group=current_group,
        state=state,
    )


@dataclass(frozen=True, slots=True)
class RoomPower:
    """A room's effective power levels, creators included (v12: infinite power)."""

    version: RoomVersion
    levels: PowerLevels
    creators: frozenset[str]
    has_power_levels_event: bool

    def user_level(self, user_id: str) -> int:
        if self.version.privileged_creators and user_id in self.creators:
            return INFINITE_POWER
        if not self.has_power_levels_event:
            return 100 if user_id in self.creators else 0
        return self.levels.user_level(user_id)

    def can_send(self, user_id: str, event_type: str, is_state: bool) -> bool:
        return self.user_level(user_id) >= self.levels.event_level(event_type, is_state)


class RoomStateCache:
    """Rooms' in-memory state plus an LRU of events by id."""

    def __init__(self, store: Store, max_events: int = 50_000) -> None:
        self.store = store
        self._rooms: dict[str, RoomInfo] = {}
        self.events: LruCache[str, Event] = LruCache(max_events)

    async def room(self, room_id: str) -> RoomInfo | None:
        info = self._rooms.get(room_id)
        if info is None:
            loaded = await self.store.db.read(_load_room, room_id)
            if loaded is None:
                return None
            # A concurrent pipeline write may have cached a fresher copy meanwhile.
            info = self._rooms.setdefault(room_id, loaded)
        return info

    def put_room(self, info: RoomInfo) -> None:
        self._rooms[info.room_id] = info

    def forget_room(self, room_id: str) -> None:
        self._rooms.pop(room_id, None)

    async def get_events(self, event_ids: list[str]) -> dict[str, Event]:
        found: dict[str, Event] = {}
        missing: list[str] = []
        for event_id in event_ids:
            cached = self.events.get(event_id)
            if cached is None:
                missing.append(event_id)
            else:
                found[event_id] = cached
        if missing:
            stored = await self.store.events.get_events(missing)
            for event_id, item in stored.items():
                self.events.set(event_id, item.event)
                found[event_id] = item.event
        return found

    async def power(self, room_id: str) -> RoomPower:
        """The room's current power levels (callers check the room exists)."""
        info = await self.room(room_id)
        if info is None:
            raise KeyError(room_id)
        found = await self.state_events(
            room_id, [("m.room.create", ""), ("m.room.power_levels", "")]
        )
        create = found.get(("m.room.create", ""))
        pl = found.get(("m.room.power_levels", ""))
        creators = (
            room_creators(create.sender, create.content, info.version)
            if create is not None
            else frozenset()
        )
        levels = PowerLevels.from_content(pl.content, info.version) if pl else PowerLevels.absent()
        return RoomPower(info.version, levels, creators, pl is not None)

    async def state_events(self, room_id: str, keys: list[StateKey]) -> dict[StateKey, Event]:
        """Current state events of ``room_id`` for ``keys`` (those that exist)."""
        info = await self.room(room_id)
        if info is None:
            return {}
        ids = {key: info.state[key] for key in keys if key in info.state}
        events = await self.get_events(list(ids.values()))
        return {key: events[event_id] for key, event_id in ids.items() if event_id in events}
