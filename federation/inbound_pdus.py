"""PDUs pushed to us in transactions, and what we fetch to place them.

spec: server-server "Checks performed on receipt of a PDU" and "Retrieving missing
events": an event whose prev events we lack first makes us ask its sender for the
events between our forward extremities and it (``/get_missing_events``); if the gap
stays, we ask for the state before the event (``/state_ids``, then the events we do
not hold) and accept it at that state, leaving the gap for backfill.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from homeserver.logs import fields
from homeserver.protocol.errors import InvalidEvent, SignatureError
from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import RoomVersion
from homeserver.rooms.remote_events import MissingEvents, RemoteEvents, StateAt
from homeserver.rooms.room_state import RoomStateCache
from homeserver.storage.store import Store

from .client import FederationRequestError
from .event_fetch import EventChecker, EventFetcher, parse_pdu
from .out_of_room import OutOfRoomMemberships

log = logging.getLogger(__name__)

# spec: get_missing_events "limit" (default 10); we ask for more, in a few rounds.
MISSING_EVENTS_LIMIT = 50
MISSING_EVENTS_ROUNDS = 10
# More missing state events than this come in one /state request, not one by one.
_STATE_BY_IDS_MAX = 50


class PduHandler:
    def __init__(
        self,
        store: Store,
        rooms: RoomStateCache,
        remote: RemoteEvents,
        checker: EventChecker,
        fetcher: EventFetcher,
        out_of_room: OutOfRoomMemberships,
    ) -> None:
        self.store = store
        self.rooms = rooms
        self.remote = remote
        self.checker = checker
        self.fetcher = fetcher
        self.out_of_room = out_of_room
        # One PDU of a room at a time: a second one waits for the first's fetches.
        self._room_locks: dict[str, asyncio.Lock] = {}

    async def on_pdu(self, origin: str, pdu: Mapping[str, Any]) -> tuple[str | None, str | None]:
        """Handle one PDU of a transaction: its event id (when it has one) and the
        error to report for it (None: accepted, or known already)."""
        room_id = pdu.get("room_id")
        if not isinstance(room_id, str):
            return None, "PDU has no room_id"
        info = await self.rooms.room(room_id)
        if info is None:
            return None, f"unknown room {room_id}"
        try:
            event = parse_pdu(pdu, info.version)
        except InvalidEvent as exc:
            log.info("dropped PDU", extra=fields(origin=origin, room_id=room_id, error=str(exc)))
            return None, str(exc)
        try:
            await self.checker.keyring.verify_event(event)
        except SignatureError as exc:
            log.info("dropped PDU", extra=fields(origin=origin, room_id=room_id, error=str(exc)))
            return event.event_id, str(exc)
        if await self.out_of_room.claims(event):
            # Our user's membership in a room we are not in: no state to place it at.
            return event.event_id, await self.out_of_room.accept(origin, event)
        event = self.checker.hash_checked(event)
        return event.event_id, await self._place(origin, info.version, event)

    async def _place(self, origin: str, version: RoomVersion, event: Event) -> str | None:
        room_id = event.room_id
        lock = self._room_locks.setdefault(room_id, asyncio.Lock())
        async with lock:
            try:
                await self.process(origin, version, event)
            except FederationRequestError as exc:
                log.info(
                    "could not place PDU",
                    extra=fields(event_id=event.event_id, origin=origin, error=str(exc)),
                )
                return f"could not fetch what the event needs: {exc}"
            except MissingEvents as exc:
                return str(exc)
        return None

    async def process(
        self,
        origin: str,
        version: RoomVersion,
        event: Event,
        *,
        fetch_missing: bool = True,
        backfilled: bool = False,
        known_state: StateAt | None = None,
    ) -> None:
        """Place a checked event (steps 4 to 6), fetching from ``origin`` what it needs:
        a live event at the end of the room, or a ``backfilled`` one in its past.
        ``known_state``: the state before the event, when we know it already."""
        held = await self.store.events.get_event(event.event_id)
        # An outlier (state or auth event we got without its place) takes it now.
        deoutlier = held is not None and held.state_group_after is None
        if held is not None and (not deoutlier or held.rejected_reason is not None):
            return
        await self._ensure_auth_events(origin, version, event)
        if known_state is not None:
            await self.remote.accept(
                event, state_before=known_state, backfilled=backfilled, deoutlier=deoutlier
            )
            return
        try:
            await self.remote.accept(event, backfilled=backfilled, deoutlier=deoutlier)
            return
        except MissingEvents:
            pass
        if fetch_missing and not backfilled:
            await self._fill_gap(origin, version, event)
            try:
                await self.remote.accept(event, deoutlier=deoutlier)
                return
            except MissingEvents:
                pass
        state = await self.state_before(origin, version, event.room_id, event.event_id)
        await self.remote.accept(
            event, state_before=StateAt(state), backfilled=backfilled, deoutlier=deoutlier
        )

    async def _ensure_auth_events(self, origin: str, version: RoomVersion, event: Event) -> None:
        held = await self.store.events.get_events(list(event.auth_event_ids))
        if len(held) == len(set(event.auth_event_ids)):
            return
        chain = await self.fetcher.auth_chain(origin, version, event.room_id, event.event_id)
        await self.remote.persist_outliers(version, event.room_id, chain)

    async def _fill_gap(self, origin: str, version: RoomVersion, event: Event) -> None:
        """Ask ``origin`` for the events between our forward extremities and ``event``,
        in rounds (a peer answers at most ``limit`` each time) until they join up with
        what we hold, then place them oldest first."""
        info = await self.rooms.room(event.room_id)
        if info is None or not info.extremities:
            return
        ours = await self.store.events.get_events(info.extremities)
        min_depth = min((e.event.depth for e in ours.values()), default=0)
        collected: dict[str, Event] = {}
        latest = [event.event_id]
        for _ in range(MISSING_EVENTS_ROUNDS):
            try:
                batch = await self.fetcher.missing_events(
                    origin,
                    version,
                    event.room_id,
                    info.extremities,
                    latest,
                    limit=MISSING_EVENTS_LIMIT,
                    min_depth=min_depth,
                )
            except FederationRequestError as exc:
                log.info("get_missing_events failed", extra=fields(origin=origin, error=str(exc)))
                break
            fresh = [
                e for e in batch if e.event_id not in collected and e.event_id != event.event_id
            ]
            if not fresh:
                break
            collected.update((e.event_id, e) for e in fresh)
            wanted = {p for e in collected.values() for p in e.prev_event_ids} - set(collected)
            held = await self.store.events.get_events(sorted(wanted))
            # The oldest events we got whose prev events we still lack: ask before them.
            latest = [
                e.event_id
                for e in collected.values()
                if any(p not in collected and p not in held for p in e.prev_event_ids)
            ]
            if not latest:
                break
        for earlier in sorted(collected.values(), key=lambda e: (e.depth, e.event_id)):
            try:
                await self.process(origin, version, earlier, fetch_missing=False)
            except (FederationRequestError, MissingEvents) as exc:
                log.info(
                    "could not place a missing event",
                    extra=fields(event_id=earlier.event_id, error=str(exc)),
                )

    async def state_before(
        self, origin: str, version: RoomVersion, room_id: str, event_id: str
    ) -> dict[tuple[str, str], str]:
        """The state before ``event_id`` as ``origin`` has it, with every event of it
        (and of its auth chain) stored as an outlier."""
        state_ids, chain_ids = await self.fetcher.state_ids(origin, room_id, event_id)
        wanted = list(dict.fromkeys([*state_ids, *chain_ids]))
        held = await self.store.events.get_events(wanted)
        lacking = [i for i in wanted if i not in held]
        fetched: list[Event] = []
        if len(lacking) > _STATE_BY_IDS_MAX:
            state, chain = await self.fetcher.state(origin, version, room_id, event_id)
            fetched = [*chain, *state]
        elif lacking:
            fetched = await self.fetcher.events(origin, version, lacking)
        if fetched:
            await self.remote.persist_outliers(version, room_id, fetched)
        events = await self.rooms.get_events(state_ids)
        return {
            e.state_tuple: e.event_id
            for e in events.values()
            if e.state_key is not None and not e.rejected
        }

    async def on_pdus(self, origin: str, pdus: Sequence[Any]) -> dict[str, dict[str, str]]:
        """spec: "PUT /send/{txnId}" — the result per PDU (by event id)."""
        results: dict[str, dict[str, str]] = {}
        for pdu in sorted(
            (p for p in pdus if isinstance(p, dict)),
            key=_depth,
        ):
            event_id, error = await self.on_pdu(origin, pdu)
            if event_id is not None:
                results[event_id] = {} if error is None else {"error": error}
        return results


__all__ = ["PduHandler", "parse_pdu"]


def _depth(pdu: Mapping[str, Any]) -> int:
    depth = pdu.get("depth")
    return depth if isinstance(depth, int) else 0
