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
from homeserver.rooms.remote_events import MissingEvents
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
                placed = 0
                for event in sorted(events, key=lambda e: (e.depth, e.event_id)):
                    if event.room_id != room_id:
                        continue
                    try:
                        await self.pdus.process(server, info.version, event, backfilled=True)
                        placed += 1
                    except (FederationRequestError, MissingEvents) as exc:
                        log.info(
                            "could not place a backfilled event",
                            extra=fields(event_id=event.event_id, error=str(exc)),
                        )
                if placed:
                    return True
            return False

    async def _servers(self, room_id: str) -> list[str]:
        """Servers with members joined to the room, those of its oldest members first."""
        members = await self.store.state.joined_members(room_id)
        servers = [m.partition(":")[2] for m in members]
        _, _, domain = room_id.partition(":")
        ordered = [domain, *servers] if domain else servers
        return [s for s in dict.fromkeys(ordered) if s and s != self.server_name]
