"""Writing an event where its ``Plan`` puts it, in one transaction (DESIGN.md "The write
path", step 5), then updating the room in memory and announcing it (step 6).

A plan says whether the event joins the room's timeline or is an outlier (known for
its own sake, no place in the timeline), soft-failed (spec: server-server "Soft
failure") or rejected, whether it is at the live end or backfilled into the past, and
what it does to the room's forward extremities and current state.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeserver.clock import Clock
from homeserver.logs import fields
from homeserver.protocol.events import Event
from homeserver.protocol.redaction import redact
from homeserver.storage import (
    events_store,
    relations_store,
    rooms_store,
    search_store,
    state_store,
)
from homeserver.storage.database import Txn
from homeserver.storage.store import Store

from .bus import EventBus, MembershipChange, PersistedEvent
from .room_state import RoomInfo, RoomStateCache, StateKey
from .search_text import index_entry

log = logging.getLogger(__name__)

# See ``EventWriter.persist_hooks``.
PersistHook = Callable[[Event], Awaitable[Callable[[Txn, int], None] | None]]


@dataclass(frozen=True, slots=True)
class TxnKey:
    """A client's (user, device, txnId): sending it twice yields one event."""

    user_id: str
    device_id: str
    txn_id: str


class StreamCounter:
    """Positions of the room-events stream, handed out by the single writer."""

    def __init__(self, current: int, step: int = 1) -> None:
        self.current = current
        self.step = step

    def next(self) -> int:
        self.current += self.step
        return self.current


class EventWriter:
    """The single place events are written; positions are handed out here."""

    def __init__(
        self, store: Store, rooms: RoomStateCache, bus: EventBus, clock: Clock, server_name: str
    ) -> None:
        self.store = store
        self.rooms = rooms
        self.bus = bus
        self.clock = clock
        self.server_name = server_name
        self._stream: StreamCounter | None = None
        # Positions below every live one, for outliers and backfilled events.
        self._backward = StreamCounter(0, step=-1)
        # The stream position up to which everything is committed and published.
        self.persisted_upto = 0
        # Work that belongs in an event's own transaction (push actions): awaited before
        # the write, each returns what to run in it (with the stream ordering), or None.
        self.persist_hooks: list[PersistHook] = []

    async def start(self) -> None:
        current = await self.store.events.max_stream_ordering()
        self._stream = StreamCounter(current)
        lowest = await self.store.events.min_stream_ordering()
        self._backward = StreamCounter(min(0, lowest), step=-1)
        self.persisted_upto = current

    @property
    def backward_counter(self) -> StreamCounter:
        """Positions for outliers and backfilled events (negative, decreasing); only
        the database's writer thread takes from it."""
        return self._backward

    def is_local(self, user_id: str) -> bool:
        return user_id.partition(":")[2] == self.server_name

    async def _may_apply_redaction(self, info: RoomInfo, redaction: Event, target: Event) -> bool:
        """spec: rooms/v3 "Handling redactions" — apply when the redaction's sender has
        the redact level, or is of the same server as the target's sender."""
        if target.room_id != redaction.room_id or target.type == "m.room.create":
            return False
        if target.sender.partition(":")[2] == redaction.sender.partition(":")[2]:
            return True
        power = await self.rooms.power(info.room_id)
        return power.user_level(redaction.sender) >= power.levels.redact

    def local_plan(self, info: RoomInfo, event: Event) -> Plan:
        """A local event extends the room's only timeline: its state before is the
        current state, and it becomes the one forward extremity."""
        state_after = info.state
        if event.state_key is not None:
            state_after = {**info.state, event.state_tuple: event.event_id}
        return Plan(
            state_before=info.state,
            group_before=info.current_group,
            new_extremities=[event.event_id],
            new_current=state_after,
        )

    async def persist(
        self,
        info: RoomInfo,
        event: Event,
        txn: TxnKey | None,
        *,
        create_room: bool = False,
        plan: Plan | None = None,
    ) -> PersistedEvent:
        """Write ``event`` as ``plan`` places it (a local event when None) in one
        transaction, update the room in memory, and announce it."""
        assert self._stream is not None, "EventWriter.start() was not awaited"
        if plan is None:
            plan = self.local_plan(info, event)
        timeline = plan.outlier == 0 and plan.rejected_reason is None
        live = timeline and not plan.backfilled
        state_before = plan.state_before
        own_change: dict[StateKey, str] = {}
        if event.state_key is not None and plan.rejected_reason is None:
            own_change = {event.state_tuple: event.event_id}
        state_after: Mapping[StateKey, str] | None = state_before
        if state_before is not None and own_change:
            state_after = {**state_before, **own_change}
        new_current = plan.new_current
        current_changes: dict[StateKey, str] = {}
        current_removed: list[StateKey] = []
        if new_current is not None:
            old = info.state
            current_changes = {k: v for k, v in new_current.items() if old.get(k) != v}
            current_removed = [k for k in old if k not in new_current]
        member_ids = [v for k, v in current_changes.items() if k[0] == "m.room.member"]
        members = await self.rooms.get_events(member_ids) if member_ids else {}
        if event.event_id in member_ids:
            members[event.event_id] = event
        memberships = {
            k[1]: m
            for k, v in current_changes.items()
            if k[0] == "m.room.member" and (m := _membership_of(members.get(v))) is not None
        }
        local_changes = {
            user: (membership, current_changes[("m.room.member", user)])
            for user, membership in memberships.items()
            if self.is_local(user)
        }
        # A local user's membership event that is not (yet) current state still counts
        # for their room list when it is an outlier they must hear of (a remote invite).
        own_membership = event.membership if event.type == "m.room.member" else None
        if (
            plan.notify_membership
            and own_membership is not None
            and event.state_key
            and self.is_local(event.state_key)
        ):
            local_changes[event.state_key] = (own_membership, event.event_id)
        redaction_target: Event | None = None
        if live and event.type == "m.room.redaction" and event.redacts:
            target = (await self.rooms.get_events([event.redacts])).get(event.redacts)
            if target is not None and await self._may_apply_redaction(info, event, target):
                redaction_target = target
        now = self.clock.time_ms()
        stream_counter = self._stream
        backward_counter = self._backward
        search_entry = index_entry(event) if timeline else None
        relation_rooms = self.store.relations.rooms
        has_relation = timeline and "m.relates_to" in event.content
        remote = not self.is_local(event.sender)
        in_txn = (
            [extra for hook in self.persist_hooks if (extra := await hook(event))] if live else []
        )
        positive = not plan.backfilled and (timeline or plan.notify_membership)

        def write(t: Txn) -> tuple[int, int | None, int | None]:
            stream = stream_counter.next() if positive else backward_counter.next()
            group_before = plan.group_before
            if group_before is None and state_before:
                group_before = state_store.store_state_group(
                    t, info.room_id, None, state_before, state_before
                )
            group_after = group_before
            if own_change and state_after is not None:
                group_after = state_store.store_state_group(
                    t, info.room_id, group_before, own_change, state_after
                )
            group_current: int | None = group_after
            if new_current is not None and new_current != state_after:
                group_current = state_store.store_state_group(
                    t, info.room_id, None, new_current, new_current
                )
            if create_room:
                rooms_store.insert_room(t, info.room_id, info.version.identifier, event.sender, now)
            place = events_store.deoutlier_event if plan.deoutlier else events_store.insert_event
            place(
                t,
                events_store.NewEventRow(
                    event=event,
                    stream_ordering=stream,
                    received_ts=now,
                    state_group_before=group_before,
                    state_group_after=group_after,
                    rejected_reason=plan.rejected_reason,
                    outlier=plan.outlier,
                    rel_type=_rel_type(event),
                    relates_to=_relates_to(event),
                    state_group_current=group_current if group_current != group_after else None,
                ),
            )
            if search_entry is not None:
                search_store.index_event(t, stream, *search_entry)
            for extra in in_txn:
                extra(t, stream)
            if plan.new_extremities is not None:
                events_store.set_forward_extremities(t, info.room_id, plan.new_extremities)
            if plan.backward_extremities is not None:
                events_store.add_backward_extremities(t, info.room_id, plan.backward_extremities)
            if timeline or plan.outlier:
                events_store.resolve_backward_extremity(t, info.room_id, event.event_id)
            if has_relation:
                relations_store.index_event(t, event, stream, relation_rooms)
            if remote and timeline:
                # Children that came before their parent meet its rules now.
                relations_store.recheck_children(t, event)
            if current_removed:
                state_store.remove_current_state(t, info.room_id, current_removed)
            if current_changes:
                state_store.update_current_state(t, info.room_id, current_changes, memberships)
            for user, (membership, member_event) in local_changes.items():
                rooms_store.upsert_local_membership(
                    t, user, info.room_id, membership, member_event, stream
                )
            if txn is not None:
                rooms_store.insert_txn_id(
                    t, txn.user_id, txn.device_id, txn.txn_id, event.event_id, now
                )
            if redaction_target is not None:
                t.execute(
                    "INSERT INTO redactions (event_id, redacts) VALUES (?, ?)",
                    (event.event_id, redaction_target.event_id),
                )
                events_store.mark_redacted(
                    t,
                    redaction_target.event_id,
                    event.event_id,
                    redact(redaction_target.pdu, info.version),
                )
                search_store.unindex_event(t, redaction_target.event_id)
                # spec: "Aggregations of child events" — a redacted child leaves its parent.
                relations_store.forget_event(t, redaction_target.event_id)
            return stream, group_after, group_current

        stream, group_after, group_current = await self.store.db.write(write)
        # The commit is done: update memory, then announce.
        if group_after is not None and state_after is not None:
            self.store.state.groups.put(group_after, state_after)
        if new_current is not None:
            if group_current is not None:
                self.store.state.groups.put(group_current, new_current)
            info.state = dict(new_current)
            info.current_group = group_current
        if plan.new_extremities is not None:
            info.extremities = list(plan.new_extremities)
        if timeline or plan.outlier == 2:
            info.max_depth = max(info.max_depth, event.depth)
        self.rooms.put_room(info)
        self.rooms.events.set(
            event.event_id,
            event if plan.rejected_reason is None else _rejected_copy(event),
        )
        if redaction_target is not None:
            self.rooms.events.pop(redaction_target.event_id)
        if positive:
            self.persisted_upto = max(self.persisted_upto, stream)
        own_local = local_changes.get(event.state_key or "") if own_membership else None
        item = PersistedEvent(
            event,
            stream,
            membership_change_for=event.state_key
            if own_local is not None and own_local[1] == event.event_id
            else None,
            federate=plan.federate and live,
            live=live,
            other_membership_changes=tuple(
                MembershipChange(user, membership, member_event)
                for user, (membership, member_event) in local_changes.items()
                if member_event != event.event_id
            ),
        )
        log.debug(
            "persisted event",
            extra=fields(event_id=event.event_id, room_id=event.room_id, stream=stream),
        )
        if positive:
            self.bus.publish(item)
        return item


@dataclass(frozen=True, slots=True)
class Plan:
    """Where an event goes: its state, whether clients see it, what it does to the room.

    ``state_before`` None marks an outlier whose state we do not know.
    """

    state_before: Mapping[StateKey, str] | None
    # The stored group holding ``state_before``, when there is one.
    group_before: int | None = None
    outlier: int = 0  # 0 timeline, OUTLIER, SOFT_FAILED
    rejected_reason: str | None = None
    backfilled: bool = False
    # The room's forward extremities and current state after the event (None: unchanged).
    new_extremities: list[str] | None = None
    new_current: Mapping[StateKey, str] | None = None
    # Event ids we lack that this event points at (gaps in our history).
    backward_extremities: list[str] | None = None
    # Whether our federation sender sends it on (False for events a remote server
    # made or will send itself, e.g. our join made through send_join).
    federate: bool = True
    # A local user's membership event that must reach their sync although it is not
    # in the timeline (a remote invite, a rejected-invite leave).
    notify_membership: bool = False
    # The event is held as an outlier already: it takes its place now.
    deoutlier: bool = False


OUTLIER = 1
SOFT_FAILED = 2


def _membership_of(event: Event | None) -> str | None:
    return event.membership if event is not None else None


def _rejected_copy(event: Event) -> Event:
    return Event(event.pdu, event.room_version, event_id=event.event_id, rejected=True)


def _relation(event: Event) -> Mapping[str, Any] | None:
    relates = event.content.get("m.relates_to")
    return relates if isinstance(relates, Mapping) else None


def _rel_type(event: Event) -> str | None:
    relates = _relation(event)
    value = relates.get("rel_type") if relates else None
    return value if isinstance(value, str) else None


def _relates_to(event: Event) -> str | None:
    relates = _relation(event)
    value = relates.get("event_id") if relates else None
    return value if isinstance(value, str) else None
