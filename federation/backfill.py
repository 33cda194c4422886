"""Reaching back into a room's history held by other servers.

spec: server-server "Backfilling and retrieving missing events": when a client pages
back past the oldest events we hold (the prev events we lack are our backward
extremities), we ask a server in the room for the events before them
(``GET /backfill``) and place each one in the room's past.
"""

from __future__ import annotations

import asyncio
import logging

from homeserver.logs import fields
from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import RoomVersion
from homeserver.rooms.remote_events import MissingEvents, StateAt
from homeserver.rooms.room_state import RoomStateCache
from homeserver.storage.store import Store

from .client import FederationRequestError
from .event_fetch import EventFetcher
from .inbound_pdus import PduHandler

log = logging.getLogger(__name__)

# spec: backfill "v" takes the events to start from; we send at most this many.
_MAX_FROM = 20
_MAX_LIMIT = 100


class Backfiller:
    def __init__(
        self,
        store: Store,
        rooms: RoomStateCache,
        fetcher: EventFetcher,
        pdus: PduHandler,
        server_name: str,
    ) -> None:
        self.store = store
        self.rooms = rooms
        self.fetcher = fetcher
        self.pdus = pdus
        self.server_name = server_name
        self._locks: dict[str, asyncio.Lock] = {}

    async def backfill(self, room_id: str, limit: int) -> bool:
        """Fetch up to ``limit`` events before our oldest ones; whether any came."""
        lock = self._locks.setdefault(room_id, asyncio.Lock())
        async with lock:
            gaps = await self.store.events.get_backward_extremities(room_id)
            info = await self.rooms.room(room_id)
            if not gaps or info is None:
                return False
            for server in await self._servers(room_id):
                try:
                    events = await self.fetcher.backfill(
                        server, info.version, room_id, gaps[:_MAX_FROM], min(limit, _MAX_LIMIT)
                    )
                except FederationRequestError as exc:
                    log.info(
                        "backfill failed",
                        extra=fields(room_id=room_id, server=server, error=str(exc)),
                    )
                    continue
                ours = [e for e in events if e.room_id == room_id]
                placed = await self._place_from_children(server, info.version, ours)
                for event in sorted(ours, key=lambda e: (e.depth, e.event_id)):
                    if event.event_id in placed:
                        continue
                    try:
                        await self.pdus.process(server, info.version, event, backfilled=True)
                        placed.add(event.event_id)
                    except (FederationRequestError, MissingEvents) as exc:
                        log.info(
                            "could not place a backfilled event",
                            extra=fields(event_id=event.event_id, error=str(exc)),
                        )
                if placed:
                    return True
            return False

    async def _place_from_children(
        self, server: str, version: RoomVersion, events: list[Event]
    ) -> set[str]:
        """Place, newest first, the events whose state we know without asking: a
        message (not a state event) that is the only prev event of an event we hold
        leaves the state as it found it, so the state before it is the state before
        that child. History of messages then costs no ``/state_ids`` round trip."""
        placed: set[str] = set()
        for event in sorted(events, key=lambda e: (e.depth, e.event_id), reverse=True):
            if event.state_key is not None:
                continue
            state = await self._state_from_children(event.event_id)
            if state is None:
                continue
            try:
                await self.pdus.process(server, version, event, backfilled=True, known_state=state)
                placed.add(event.event_id)
            except (FederationRequestError, MissingEvents) as exc:
                log.info(
                    "could not place a backfilled event",
                    extra=fields(event_id=event.event_id, error=str(exc)),
                )
        return placed

    async def _state_from_children(self, event_id: str) -> StateAt | None:
        held = await self.store.events.get_event(event_id)
        if held is not None and held.state_group_after is not None:
            return None  # placed already
        for child_id in await self.store.events.children_of(event_id):
            child = await self.store.events.get_event(child_id)
            if (
                child is not None
                and child.state_group_before is not None
                and child.event.prev_event_ids == (event_id,)
            ):
                group = child.state_group_before
                return StateAt(await self.store.state.load_state_group(group), group)
        return None

    async def _servers(self, room_id: str) -> list[str]:
        """Servers with members joined to the room, those of its oldest members first."""
        members = await self.store.state.joined_members(room_id)
        servers = [m.partition(":")[2] for m in members]
        _, _, domain = room_id.partition(":")
        ordered = [domain, *servers] if domain else servers
        return [s for s in dict.fromkeys(ordered) if s and s != self.server_name]
