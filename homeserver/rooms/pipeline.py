"""The one write path for events (DESIGN.md "The write path").

Local sends are built here from the room's current state; every event is checked
against the authorization rules of ``homeserver.protocol`` and persisted with its
edges, state group, current state and stream position in one transaction, under a
per-room lock. Subscribers hear about it on the bus after the commit.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeserver.clock import Clock
from homeserver.errors import MatrixError
from homeserver.logs import fields
from homeserver.lru import LruCache
from homeserver.protocol.auth import check_auth_rules
from homeserver.protocol.auth_events import auth_types_for_event, check_auth_events
from homeserver.protocol.builder import MAX_PREV_EVENTS, build_event, event_reference
from homeserver.protocol.canonical import JsonDict
from homeserver.protocol.errors import AuthError, InvalidEvent
from homeserver.protocol.events import Event
from homeserver.protocol.redaction import redact
from homeserver.protocol.room_versions import EventIdFormat, RoomVersion
from homeserver.protocol.signing import SigningKey
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


@dataclass(frozen=True, slots=True)
class TxnKey:
    """A client's (user, device, txnId): sending it twice yields one event."""

    user_id: str
    device_id: str
    txn_id: str


class StateChanged(MatrixError):
    """A send conditional on a state entry (``if_state``) found it changed."""

    def __init__(self, message: str) -> None:
        super().__init__(409, "M_UNKNOWN", message)


# See ``EventPipeline.persist_hooks``.
PersistHook = Callable[[Event], Awaitable[Callable[[Txn, int], None] | None]]

# A check a local send must pass before it is built, run under the room's lock:
# ``(room_id, sender, event_type, content, state_key)``; raises ``MatrixError``.
SendCheck = Callable[[str, str, str, Mapping[str, Any], str | None], Awaitable[None]]


class StreamCounter:
    """Positions of the room-events stream, handed out by the single writer."""

    def __init__(self, current: int, step: int = 1) -> None:
        self.current = current
        self.step = step

    def next(self) -> int:
        self.current += self.step
        return self.current


class EventPipeline:
    def __init__(
        self,
        store: Store,
        rooms: RoomStateCache,
        bus: EventBus,
        signing_key: SigningKey,
        clock: Clock,
        server_name: str,
    ) -> None:
        self.store = store
        self.rooms = rooms
        self.bus = bus
        self.signing_key = signing_key
        self.clock = clock
        self.server_name = server_name
        self._locks: dict[str, asyncio.Lock] = {}
        self._running_txns: dict[TxnKey, asyncio.Future[PersistedEvent]] = {}
        # Sends finished by this process: a retry racing the first attempt's commit
        # finds it here even if its database look-up ran before that commit.
        self._done_txns: LruCache[TxnKey, PersistedEvent] = LruCache(10_000)
        self._stream: StreamCounter | None = None
        # Positions below every live one, for outliers and backfilled events.
        self._backward = StreamCounter(0, step=-1)
        # The stream position up to which everything is committed and published.
        self.persisted_upto = 0
        # Subsystems' rules for local sends (e.g. relations: no duplicate reactions).
        self.send_checks: list[SendCheck] = []
        # Set when federation is on: an invite of a remote user goes to their server to
        # be countersigned before we persist it (spec: server-server "Inviting to a room").
        self.remote_invite: Callable[[Event, RoomInfo], Awaitable[Event]] | None = None
        # Work that belongs in an event's own transaction (push actions): awaited before
        # the write, each returns what to run in it (with the stream ordering), or None.
        self.persist_hooks: list[PersistHook] = []

    async def start(self) -> None:
        current = await self.store.events.max_stream_ordering()
        self._stream = StreamCounter(current)
        self._backward = StreamCounter(
            min(0, await self.store.events.min_stream_ordering()), step=-1
        )
        self.persisted_upto = current

    @property
    def backward_counter(self) -> StreamCounter:
        """Positions for outliers and backfilled events (negative, decreasing); only
        the database's writer thread takes from it."""
        return self._backward

    def room_lock(self, room_id: str) -> asyncio.Lock:
        """Held while an event of the room is checked and persisted."""
        return self._lock(room_id)

    async def persist_planned(self, info: RoomInfo, event: Event, plan: Plan) -> PersistedEvent:
        """Persist an event checked elsewhere (``rooms.remote_events``), under the room
        lock its caller holds."""
        return await self._persist(info, event, None, plan=plan)

    def _lock(self, room_id: str) -> asyncio.Lock:
        lock = self._locks.get(room_id)
        if lock is None:
            lock = self._locks[room_id] = asyncio.Lock()
        return lock

    def is_local(self, user_id: str) -> bool:
        return user_id.partition(":")[2] == self.server_name

    # ------------------------------------------------------------------ local sends

    async def create_room(
        self, version: RoomVersion, creator: str, create_content: Mapping[str, Any]
    ) -> PersistedEvent:
        """Persist the m.room.create event of a new room and return it."""
        content = dict(create_content)
        if not version.implicit_room_creator:
            content["creator"] = creator
        content["room_version"] = version.identifier
        room_id: str | None = None
        if not version.room_id_from_create_event:
            room_id = f"!{secrets.token_urlsafe(18)}:{self.server_name}"
        ts = self.clock.time_ms()
        while True:
            event = self._build(
                version, room_id, creator, "m.room.create", content, "", [], [], depth=1, ts=ts
            )
            check_auth_rules(event, {("m.room.create", ""): event})
            info = RoomInfo(
                room_id=event.room_id,
                version=version,
                extremities=[],
                max_depth=0,
                current_group=None,
            )
            async with self._lock(event.room_id):
                # v12 derives the room id from the create event: the same creator making
                # two identical rooms in one millisecond would collide; a later
                # timestamp tells them apart.
                if await self.rooms.room(event.room_id) is None:
                    return await self._persist(info, event, None, create_room=True)
            ts += 1

    async def send(
        self,
        room_id: str,
        sender: str,
        event_type: str,
        content: Mapping[str, Any],
        *,
        state_key: str | None = None,
        txn: TxnKey | None = None,
        redacts: str | None = None,
        if_state: tuple[StateKey, str] | None = None,
    ) -> PersistedEvent:
        """Build, authorise and persist a local event in ``room_id``.

        Raises ``MatrixError``: 404 for an unknown room, 403 ``M_FORBIDDEN`` when the
        auth rules refuse it, 400 ``M_BAD_JSON`` when the event is malformed;
        ``StateChanged`` when ``if_state`` (a state key and the event id it must still
        hold, checked under the room lock) no longer holds.
        """
        if txn is None:
            return await self._send(
                room_id, sender, event_type, content, state_key, None, redacts, if_state
            )
        # spec: client-server "Transaction identifiers" — the same (device, txnId) gives
        # the same event: finished ones are in the database (and, recent ones, in
        # memory), running ones in memory.
        known = self._known_txn(txn)
        if known is None:
            existing = await self._txn_event(txn)
            if existing is not None:
                return existing
            known = self._known_txn(txn)  # it may have started or finished meanwhile
        if isinstance(known, PersistedEvent):
            return known
        if known is not None:
            return await asyncio.shield(known)
        future: asyncio.Future[PersistedEvent] = asyncio.get_running_loop().create_future()
        self._running_txns[txn] = future
        try:
            result = await self._send(
                room_id, sender, event_type, content, state_key, txn, redacts, if_state
            )
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        else:
            future.set_result(result)
            self._done_txns.set(txn, result)
            return result
        finally:
            del self._running_txns[txn]

    def _known_txn(self, txn: TxnKey) -> PersistedEvent | asyncio.Future[PersistedEvent] | None:
        return self._done_txns.get(txn) or self._running_txns.get(txn)

    async def _send(
        self,
        room_id: str,
        sender: str,
        event_type: str,
        content: Mapping[str, Any],
        state_key: str | None,
        txn: TxnKey | None,
        redacts: str | None,
        if_state: tuple[StateKey, str] | None = None,
    ) -> PersistedEvent:
        async with self._lock(room_id):
            info = await self.rooms.room(room_id)
            if info is None:
                raise MatrixError(404, "M_NOT_FOUND", "Unknown room")
            if if_state is not None and info.state.get(if_state[0]) != if_state[1]:
                raise StateChanged(f"{if_state[0]} changed in {room_id}")
            for check in self.send_checks:
                await check(room_id, sender, event_type, content, state_key)
            event = await self._build_checked(info, sender, event_type, content, state_key, redacts)
            if (
                self.remote_invite is not None
                and event.type == "m.room.member"
                and event.membership == "invite"
                and event.state_key
                and not self.is_local(event.state_key)
            ):
                event = await self.remote_invite(event, info)
            return await self._persist(info, event, txn)

    async def _build_checked(
        self,
        info: RoomInfo,
        sender: str,
        event_type: str,
        content: Mapping[str, Any],
        state_key: str | None,
        redacts: str | None = None,
    ) -> Event:
        """A new event at the room's forward extremities, allowed by the auth rules at
        the current state (403 ``M_FORBIDDEN`` otherwise)."""
        room_id = info.room_id
        version = info.version
        keys = auth_types_for_event(version, event_type, state_key, sender, dict(content))
        state_events = await self.rooms.state_events(room_id, keys)
        auth_events = list(state_events.values())
        prev_ids = info.extremities[-MAX_PREV_EVENTS:]
        prev_refs: list[Any] = list(prev_ids)
        auth_refs: list[Any] = [e.event_id for e in auth_events]
        if version.event_id_format is EventIdFormat.V1:
            prevs = await self.rooms.get_events(prev_ids)
            prev_refs = [event_reference(prevs[i]) for i in prev_ids if i in prevs]
            auth_refs = [event_reference(e) for e in auth_events]
        event = self._build(
            version,
            room_id,
            sender,
            event_type,
            content,
            state_key,
            prev_refs,
            auth_refs,
            depth=info.max_depth + 1,
            redacts=redacts,
        )
        state_for_auth: dict[StateKey, Event] = dict(state_events)
        if ("m.room.create", "") not in state_for_auth:
            create_id = info.state.get(("m.room.create", ""))
            if create_id is not None:
                create = (await self.rooms.get_events([create_id])).get(create_id)
                if create is not None:
                    state_for_auth[("m.room.create", "")] = create
        try:
            check_auth_events(event, auth_events)
            check_auth_rules(event, state_for_auth)
        except AuthError as exc:
            raise MatrixError(403, "M_FORBIDDEN", str(exc)) from exc
        return event

    async def template(
        self,
        room_id: str,
        sender: str,
        event_type: str,
        content: Mapping[str, Any],
        state_key: str,
    ) -> tuple[RoomVersion, JsonDict]:
        """spec: server-server "Joining Rooms" (and leaving, knocking) — the event a
        remote server completes and signs for its user: 404 for an unknown room, 403
        when the auth rules would refuse it."""
        async with self._lock(room_id):
            info = await self.rooms.room(room_id)
            if info is None or not info.state:
                raise MatrixError(404, "M_NOT_FOUND", "Unknown room")
            event = await self._build_checked(info, sender, event_type, content, state_key)
        proto = {k: v for k, v in event.pdu.items() if k not in ("hashes", "signatures")}
        if info.version.event_id_format is EventIdFormat.V1:
            proto.pop("event_id", None)
        return info.version, proto

    def _build(
        self,
        version: RoomVersion,
        room_id: str | None,
        sender: str,
        event_type: str,
        content: Mapping[str, Any],
        state_key: str | None,
        prev_refs: list[Any],
        auth_refs: list[Any],
        *,
        depth: int,
        redacts: str | None = None,
        ts: int | None = None,
    ) -> Event:
        try:
            event = build_event(
                version=version,
                room_id=room_id,
                sender=sender,
                event_type=event_type,
                content=content,
                prev_events=prev_refs,
                auth_events=auth_refs,
                depth=depth,
                origin_server_ts=self.clock.time_ms() if ts is None else ts,
                key=self.signing_key,
                state_key=state_key,
                redacts=redacts,
                event_id_localpart=secrets.token_urlsafe(12)
                if version.event_id_format is EventIdFormat.V1
                else None,
            )
            event.check_size_limits()
        except InvalidEvent as exc:
            if "bytes" in str(exc):
                raise MatrixError(413, "M_TOO_LARGE", str(exc)) from exc
            raise MatrixError(400, "M_BAD_JSON", str(exc)) from exc
        return event

    async def _txn_event(self, txn: TxnKey) -> PersistedEvent | None:
        event_id = await self.store.rooms.get_txn_event(txn.user_id, txn.device_id, txn.txn_id)
        if event_id is None:
            return None
        stored = await self.store.events.get_event(event_id)
        if stored is None:
            return None
        return PersistedEvent(stored.event, stored.stream_ordering)

    async def _may_apply_redaction(self, info: RoomInfo, redaction: Event, target: Event) -> bool:
        """spec: rooms/v3 "Handling redactions" — apply when the redaction's sender has
        the redact level, or is of the same server as the target's sender."""
        if target.room_id != redaction.room_id or target.type == "m.room.create":
            return False
        if target.sender.partition(":")[2] == redaction.sender.partition(":")[2]:
            return True
        power = await self.rooms.power(info.room_id)
        return power.user_level(redaction.sender) >= power.levels.redact

    # ------------------------------------------------------------------ persisting

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

    async def _persist(
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
        assert self._stream is not None, "EventPipeline.start() was not awaited"
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
                base = plan.base_group
                base_group: int | None = None
                if base is not None:
                    base_group, base_state = base
                    delta = {k: v for k, v in state_before.items() if base_state.get(k) != v}
                    if any(k not in state_before for k in base_state):
                        base_group, delta = None, dict(state_before)
                else:
                    delta = dict(state_before)
                group_before = state_store.store_state_group(
                    t, info.room_id, base_group, delta, state_before
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
            events_store.insert_event(
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
    # A stored group (and its state) that ``state_before`` is a small delta over.
    base_group: tuple[int, Mapping[StateKey, str]] | None = None
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
