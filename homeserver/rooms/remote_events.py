"""Events made by other servers, into the one pipeline.

spec: server-server "Checks performed on receipt of a PDU", steps 4 to 6: an event is
checked against its auth events (else rejected), against the state before it (else
rejected), and against the room's current state (else soft-failed, spec: "Soft
failure"). Format, signature and hash checks (steps 1 to 3) and fetching what is
missing from the sending server belong to ``federation``; this module only needs the
events to be in our database (``MissingEvents`` names the ones that are not).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from homeserver.logs import fields
from homeserver.protocol.auth import check_auth_rules
from homeserver.protocol.auth_events import auth_types_for_event, check_auth_events
from homeserver.protocol.errors import AuthError, StateResolutionError
from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import RoomVersion
from homeserver.protocol.state_res import resolve_state
from homeserver.storage import events_store, rooms_store
from homeserver.storage.database import Txn
from homeserver.storage.store import Store

from .bus import PersistedEvent
from .pipeline import OUTLIER, SOFT_FAILED, EventPipeline, Plan
from .room_state import RoomInfo, RoomStateCache, StateKey

log = logging.getLogger(__name__)

StateMap = Mapping[StateKey, str]


class MissingEvents(Exception):
    """Events an event refers to are not in our database."""

    def __init__(self, event_ids: Iterable[str]) -> None:
        self.event_ids = sorted(set(event_ids))
        super().__init__(f"missing events: {', '.join(self.event_ids[:5])}")


@dataclass(frozen=True, slots=True)
class StateAt:
    """A state map and, when it is stored as one, its group."""

    state: StateMap
    group: int | None = None


def create_event_id(event: Event) -> str | None:
    """The create event's id when the room id names it (rooms/v12 "Room IDs")."""
    if event.room_version.room_id_from_create_event:
        return "$" + event.room_id[1:]
    return None


def _auth_dependencies(event: Event) -> list[str]:
    """The events ``event`` is authorised by: its auth events, and in v12 the create
    event, which the room id names instead."""
    create_id = create_event_id(event)
    if create_id is not None and event.type != "m.room.create":
        return [*event.auth_event_ids, create_id]
    return list(event.auth_event_ids)


class RemoteEvents:
    def __init__(self, pipeline: EventPipeline, rooms: RoomStateCache, store: Store) -> None:
        self.pipeline = pipeline
        self.rooms = rooms
        self.store = store

    # ------------------------------------------------------------------ outliers

    async def persist_outliers(
        self, version: RoomVersion, room_id: str, events: Sequence[Event]
    ) -> dict[str, str]:
        """Store events without a place in the timeline (auth chains and state from a
        peer), each checked against its own auth events: returns the rejected ones with
        the reason. The room row is created when it does not exist yet. Events whose
        auth events are neither held nor among ``events`` are rejected."""
        known = await self.store.events.get_events([e.event_id for e in events])
        todo = {e.event_id: e for e in events if e.event_id not in known}
        if not todo:
            return {}
        auth_ids = {a for e in todo.values() for a in _auth_dependencies(e) if a not in todo}
        have: dict[str, Event] = await self.rooms.get_events(sorted(auth_ids))
        rejected: dict[str, str] = {}
        ordered: list[Event] = []
        # Topological order over auth edges: an event after all its auth events.
        pending = dict(todo)
        while pending:
            ready = [
                e
                for e in pending.values()
                if all(a in have or a not in pending for a in _auth_dependencies(e))
            ]
            if not ready:  # a cycle: nothing a real room can produce
                for e in pending.values():
                    rejected[e.event_id] = "auth events form a cycle"
                    ordered.append(e)
                break
            ready.sort(key=lambda e: (e.depth, e.event_id))
            for event in ready:
                del pending[event.event_id]
                reason = self._check_against_auth_events(event, have)
                if reason is not None:
                    rejected[event.event_id] = reason
                    event = Event(event.pdu, version, event_id=event.event_id, rejected=True)
                have[event.event_id] = event
                ordered.append(event)
        create = next((e for e in ordered if e.type == "m.room.create"), None)
        now = self.pipeline.clock.time_ms()
        counter = self.pipeline.backward_counter

        def write(t: Txn) -> None:
            rooms_store.insert_room(
                t, room_id, version.identifier, create.sender if create else None, now
            )
            for event in ordered:
                events_store.insert_event(
                    t,
                    events_store.NewEventRow(
                        event=event,
                        stream_ordering=counter.next(),
                        received_ts=now,
                        state_group_before=None,
                        state_group_after=None,
                        rejected_reason=rejected.get(event.event_id),
                        outlier=OUTLIER,
                    ),
                )
                events_store.resolve_backward_extremity(t, room_id, event.event_id)

        await self.store.db.write(write)
        for event in ordered:
            self.rooms.events.set(event.event_id, event)
        for event_id, reason in rejected.items():
            log.info("rejected outlier", extra=fields(event_id=event_id, reason=reason))
        return rejected

    def _check_against_auth_events(self, event: Event, have: Mapping[str, Event]) -> str | None:
        """spec: "Checks performed on receipt of a PDU" step 4."""
        missing = [a for a in event.auth_event_ids if a not in have]
        if missing:
            return f"unknown auth events {missing[:3]}"
        auth_events = [have[a] for a in event.auth_event_ids]
        state = {e.state_tuple: e for e in auth_events}
        create_id = create_event_id(event)
        if create_id is not None and create_id in have and event.type != "m.room.create":
            state[("m.room.create", "")] = have[create_id]
        try:
            check_auth_events(event, auth_events)
            check_auth_rules(event, state)
        except AuthError as exc:
            return str(exc)
        return None

    async def persist_membership_outlier(self, event: Event) -> PersistedEvent:
        """A local user's membership event in a room we are not in (a remote invite, our
        leave rejecting it, our knock): no state, but the user's room list hears of it."""
        version = event.room_version
        async with self.pipeline.room_lock(event.room_id):
            info = await self.rooms.room(event.room_id)
            if info is None:
                now = self.pipeline.clock.time_ms()
                await self.store.db.write(
                    rooms_store.insert_room, event.room_id, version.identifier, None, now
                )
                info = await self.rooms.room(event.room_id)
                assert info is not None
            plan = Plan(state_before=None, outlier=OUTLIER, notify_membership=True, federate=False)
            return await self.pipeline.persist_planned(info, event, plan)

    # ------------------------------------------------------------------ timeline events

    async def accept(
        self,
        event: Event,
        *,
        state_before: StateAt | None = None,
        backfilled: bool = False,
        federate: bool = False,
    ) -> PersistedEvent:
        """Check and persist an event whose auth events we hold, placed after its prev
        events (their states resolved) or, when those are missing, at ``state_before``
        (the state a peer told us). Raises ``MissingEvents``."""
        async with self.pipeline.room_lock(event.room_id):
            info = await self.rooms.room(event.room_id)
            if info is None:
                raise MissingEvents([event.room_id])
            return await self._accept(info, event, state_before, backfilled, federate)

    async def _accept(
        self,
        info: RoomInfo,
        event: Event,
        given: StateAt | None,
        backfilled: bool,
        federate: bool,
    ) -> PersistedEvent:
        wanted = list(event.auth_event_ids)
        create_id = create_event_id(event)
        if create_id is not None:
            wanted.append(create_id)
        have = await self.rooms.get_events(wanted)
        missing = [a for a in event.auth_event_ids if a not in have]
        if missing:
            raise MissingEvents(missing)
        rejected = self._check_against_auth_events(event, have)
        prev_ids = list(dict.fromkeys(event.prev_event_ids))
        missing_prevs: list[str] = []
        before = given
        if before is None:
            before, missing_prevs = await self._state_after_prevs(info.version, prev_ids)
            if missing_prevs:
                raise MissingEvents(missing_prevs)
        else:
            held = await self.store.events.get_events(prev_ids)
            # An outlier has no place in the timeline yet: still a gap to backfill.
            missing_prevs = [
                p for p in prev_ids if p not in held or held[p].state_group_after is None
            ]
        assert before is not None
        if rejected is None:
            # spec: step 5 — the auth rules at the state before the event.
            rejected = await self._check_at_state(event, before.state, have)
        soft_failed = False
        if rejected is None and not backfilled and info.state:
            # spec: step 6 and "Soft failure" — against the current state.
            soft_failed = (await self._check_at_state(event, info.state, have)) is not None
        if rejected is not None:
            log.info("rejected event", extra=fields(event_id=event.event_id, reason=rejected))
        elif soft_failed:
            log.info("soft-failed event", extra=fields(event_id=event.event_id))
        timeline = rejected is None and not soft_failed
        new_extremities: list[str] | None = None
        new_current: StateMap | None = None
        if timeline and not backfilled:
            new_extremities = [x for x in info.extremities if x not in prev_ids]
            new_extremities.append(event.event_id)
            after = dict(before.state)
            if event.state_key is not None:
                after[event.state_tuple] = event.event_id
            new_current = await self._current_with(info, new_extremities[:-1], after)
        plan = Plan(
            state_before=before.state,
            group_before=before.group,
            outlier=SOFT_FAILED if soft_failed else 0,
            rejected_reason=rejected,
            backfilled=backfilled,
            new_extremities=new_extremities,
            new_current=new_current,
            backward_extremities=missing_prevs or None,
            federate=federate,
        )
        return await self.pipeline.persist_planned(info, event, plan)

    async def _check_at_state(
        self, event: Event, state: StateMap, have: Mapping[str, Event]
    ) -> str | None:
        version = event.room_version
        keys = auth_types_for_event(
            version, event.type, event.state_key, event.sender, event.content
        )
        keys.append(("m.room.create", ""))
        ids = {key: state[key] for key in keys if key in state}
        found = await self.rooms.get_events([i for i in ids.values() if i not in have])
        events = {key: have.get(i) or found.get(i) for key, i in ids.items()}
        try:
            check_auth_rules(event, {k: e for k, e in events.items() if e is not None})
        except AuthError as exc:
            return str(exc)
        return None

    async def _state_after_prevs(
        self, version: RoomVersion, prev_ids: Sequence[str]
    ) -> tuple[StateAt | None, list[str]]:
        """The state before an event with these prev events: the resolved states after
        each of them; ``(None, missing)`` when some are not held or have no state."""
        stored = await self.store.events.get_events(list(prev_ids))
        missing = [p for p in prev_ids if p not in stored or stored[p].state_group_after is None]
        if missing:
            return None, missing
        groups = list(dict.fromkeys(stored[p].state_group_after for p in prev_ids))
        if len(groups) == 1 and groups[0] is not None:
            group = groups[0]
            return StateAt(await self.store.state.load_state_group(group), group), []
        states = [await self.store.state.load_state_group(g) for g in groups if g is not None]
        return StateAt(await self.resolve(version, states)), []

    async def _current_with(
        self, info: RoomInfo, other_extremities: Sequence[str], state_after: StateMap
    ) -> StateMap:
        """The room's current state once the event (with ``state_after``) joins the
        other forward extremities: their states resolved together."""
        if not other_extremities:
            return state_after
        stored = await self.store.events.get_events(list(other_extremities))
        states: list[StateMap] = [state_after]
        for event_id in other_extremities:
            item = stored.get(event_id)
            if item is not None and item.state_group_after is not None:
                states.append(await self.store.state.load_state_group(item.state_group_after))
        return await self.resolve(info.version, states)

    async def resolve(
        self, version: RoomVersion, states: Sequence[StateMap]
    ) -> dict[StateKey, str]:
        """State resolution over ``states``, with every event it may read loaded first:
        the conflicted events and their auth chains (spec: "Room Versions", state
        resolution v2 "Definitions")."""
        distinct = [dict(s) for s in states]
        if len(distinct) == 1:
            return distinct[0]
        # spec: state resolution v2 — the auth chain difference reads the auth chains
        # of every event in every state set, not only the conflicted ones.
        every = {event_id for state in distinct for event_id in state.values()}
        loaded = await self.auth_closure(sorted(every))
        try:
            return resolve_state(version, distinct, loaded.get)
        except StateResolutionError as exc:
            log.warning("state resolution failed", extra=fields(error=str(exc)))
            # Without the events to decide, keep the first (our own) view.
            return distinct[0]

    async def auth_closure(self, event_ids: Sequence[str]) -> dict[str, Event]:
        """The events and their whole auth chains, read in rounds of one query each."""
        found: dict[str, Event] = {}
        frontier = list(dict.fromkeys(event_ids))
        while frontier:
            got = await self.rooms.get_events(frontier)
            found.update(got)
            frontier = list(
                dict.fromkeys(a for e in got.values() for a in e.auth_event_ids if a not in found)
            )
        return found
