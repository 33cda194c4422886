"""What other servers may read of a room: history, state at an event, single events and
auth chains.

spec: server-server "Backfilling and retrieving missing events", "Retrieving events",
"Server Access Control Lists (ACLs)". Every read is about a room the asking server
takes part in: an unknown room or event is 404 ``M_NOT_FOUND``; a server without a
joined user in the room (current state), or one the room's ACL denies, is 403
``M_FORBIDDEN``.

History is filtered per event by history visibility as it applies to servers
(``homeserver.rooms.visibility.server_may_see``): an event the server may not see is
served in its redacted form, so the DAG stays whole. State and auth chains are served
as they are (a server needs them to check events), and PDUs go out as stored without
local ``unsigned`` data. Rejected events are never served.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from homeserver.clock import Clock
from homeserver.errors import MatrixError, not_found
from homeserver.protocol.canonical import JsonDict
from homeserver.protocol.federation_pdu import pdu_for_federation
from homeserver.protocol.redaction import redact
from homeserver.rooms.room_state import RoomInfo, RoomStateCache
from homeserver.rooms.visibility import server_may_see
from homeserver.storage.events_store import StoredEvent
from homeserver.storage.federation_reads_store import FederationReadsStore
from homeserver.storage.store import Store

from .acl import ServerAcl

# Events one /backfill or /get_missing_events answer holds at most.
MAX_EVENTS_PER_READ = 100


def forbidden(message: str) -> MatrixError:
    return MatrixError(403, "M_FORBIDDEN", message)


class RoomReads:
    def __init__(
        self,
        store: Store,
        rooms: RoomStateCache,
        acl: ServerAcl,
        clock: Clock,
    ) -> None:
        self.reads = FederationReadsStore(store.db, store.state.groups)
        self.events = store.events
        self.rooms = rooms
        self.acl = acl
        self.clock = clock

    # ------------------------------------------------------------------ gates

    async def participant_room(self, origin: str, room_id: str, *, acl: bool = True) -> RoomInfo:
        """The room, when ``origin`` may read it (404 unknown, 403 ACL or not in it)."""
        info = await self.rooms.room(room_id)
        if info is None:
            raise not_found("Unknown room")
        if acl:
            await self.acl.check(origin, room_id)
        if not await self.reads.server_joined(room_id, origin):
            raise forbidden("Host not in room")
        return info

    async def _room_event(self, room_id: str, event_id: str) -> StoredEvent:
        found = (await self.reads.events([event_id], with_outliers=True)).get(event_id)
        if found is None or found.event.room_id != room_id:
            raise not_found(f"Could not find event {event_id}")
        return found

    # ------------------------------------------------------------------ rendering

    def _pdus(self, events: Sequence[StoredEvent]) -> list[JsonDict]:
        now = self.clock.time_ms()
        return [pdu_for_federation(stored.event.pdu, now) for stored in events]

    async def _visible_pdus(
        self, origin: str, room_id: str, events: Sequence[StoredEvent]
    ) -> list[JsonDict]:
        """``events`` as ``origin`` may see them: whole, or redacted."""
        views = await self.reads.server_views(room_id, origin, events)
        now = self.clock.time_ms()
        out: list[JsonDict] = []
        for stored in events:
            event = stored.event
            view = views.get(event.event_id)
            if view is None:
                # No state is stored at the event (an outlier): what it is for is
                # authorising other events, and those are state events.
                visible = event.is_state
            else:
                visible = server_may_see(view.visibility, view.memberships)
            pdu = event.pdu if visible else redact(event.pdu, event.room_version)
            out.append(pdu_for_federation(pdu, now))
        return out

    async def _ordered(self, event_ids: Sequence[str]) -> list[StoredEvent]:
        found = await self.reads.events(event_ids)
        return [found[event_id] for event_id in event_ids if event_id in found]

    async def _auth_chain(self, info: RoomInfo, event_ids: Sequence[str]) -> set[str]:
        chain = await self.reads.auth_chain_ids(event_ids)
        if info.version.room_id_from_create_event:
            # spec: rooms/v12 — the create event authorises every event of the room
            # without being listed in ``auth_events``; peers need it all the same.
            create_id = info.state.get(("m.room.create", ""))
            if create_id is not None:
                chain.add(create_id)
        return chain

    # ------------------------------------------------------------------ endpoints

    async def backfill(
        self, origin: str, room_id: str, from_ids: Sequence[str], limit: int
    ) -> list[JsonDict]:
        """spec: GET /backfill — the given events and those before them, deepest first."""
        await self.participant_room(origin, room_id)
        limit = min(limit, MAX_EVENTS_PER_READ)
        ids = await self.reads.backfill(room_id, from_ids, limit)
        return await self._visible_pdus(origin, room_id, await self._ordered(ids))

    async def missing_events(
        self,
        origin: str,
        room_id: str,
        earliest: Sequence[str],
        latest: Sequence[str],
        limit: int,
        min_depth: int,
    ) -> list[JsonDict]:
        """spec: POST /get_missing_events — the events between, oldest first."""
        await self.participant_room(origin, room_id)
        limit = min(limit, MAX_EVENTS_PER_READ)
        ids = await self.reads.missing_events(room_id, earliest, latest, limit, min_depth)
        return await self._visible_pdus(origin, room_id, await self._ordered(ids))

    async def state_ids(
        self, origin: str, room_id: str, event_id: str
    ) -> tuple[list[str], set[str]]:
        """spec: GET /state_ids — the state before ``event_id`` and its auth chain."""
        info = await self.participant_room(origin, room_id)
        await self._room_event(room_id, event_id)
        state = await self.reads.state_before(event_id)
        if state is None:
            raise not_found(f"No state known at {event_id}")
        state_ids = sorted(set(state.values()))
        return state_ids, await self._auth_chain(info, state_ids)

    async def state(
        self, origin: str, room_id: str, event_id: str
    ) -> tuple[list[JsonDict], list[JsonDict]]:
        """spec: GET /state — ``state_ids`` as whole events."""
        state_ids, chain = await self.state_ids(origin, room_id, event_id)
        found = await self.reads.events([*state_ids, *sorted(chain)], with_outliers=True)
        pdus = self._pdus([found[i] for i in state_ids if i in found])
        auth = self._pdus([found[i] for i in sorted(chain) if i in found])
        return pdus, auth

    async def event(self, origin: str, event_id: str) -> JsonDict:
        """spec: GET /event — one event, redacted when ``origin`` may not see it."""
        found = (await self.reads.events([event_id], with_outliers=True)).get(event_id)
        if found is None:
            raise not_found(f"Could not find event {event_id}")
        room_id = found.event.room_id
        await self.participant_room(origin, room_id, acl=False)
        return (await self._visible_pdus(origin, room_id, [found]))[0]

    async def closest_event(self, origin: str, room_id: str, ts: int, backwards: bool) -> JsonDict:
        """spec: server-server "GET /timestamp_to_event" (a server in the room asks)."""
        await self.participant_room(origin, room_id)
        found = await self.events.closest_by_ts(room_id, ts, backwards)
        if found is None:
            direction = "before" if backwards else "after"
            raise MatrixError(404, "M_NOT_FOUND", f"No event found {direction} {ts}")
        return {"event_id": found[0], "origin_server_ts": found[1]}

    async def event_auth(self, origin: str, room_id: str, event_id: str) -> list[JsonDict]:
        """spec: GET /event_auth — the event's full auth chain."""
        info = await self.participant_room(origin, room_id)
        stored = await self._room_event(room_id, event_id)
        chain = await self._auth_chain(info, [event_id])
        chain.discard(event_id)
        if stored.event.type == "m.room.create" and stored.event.state_key == "":
            chain.clear()
        found = await self.reads.events(sorted(chain), with_outliers=True)
        return self._pdus([found[i] for i in sorted(chain) if i in found])


def transaction(origin: str, now_ms: int, pdus: list[JsonDict]) -> dict[str, Any]:
    """spec: server-server "Transactions" — the envelope /backfill and /event answer in."""
    return {"origin": origin, "origin_server_ts": now_ms, "pdus": pdus}
