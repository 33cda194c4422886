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
from typing import Any

from homeserver.clock import Clock
from homeserver.errors import MatrixError
from homeserver.lru import LruCache
from homeserver.protocol.auth import check_auth_rules
from homeserver.protocol.auth_events import auth_types_for_event, check_auth_events
from homeserver.protocol.builder import MAX_PREV_EVENTS, build_event, event_reference
from homeserver.protocol.canonical import JsonDict
from homeserver.protocol.errors import AuthError, InvalidEvent
from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import EventIdFormat, RoomVersion
from homeserver.protocol.signing import SigningKey
from homeserver.storage.store import Store

from .bus import EventBus, PersistedEvent
from .persist import EventWriter, PersistHook, Plan, StreamCounter, TxnKey
from .room_state import RoomInfo, RoomStateCache, StateKey

log = logging.getLogger(__name__)


class StateChanged(MatrixError):
    """A send conditional on a state entry (``if_state``) found it changed."""

    def __init__(self, message: str) -> None:
        super().__init__(409, "M_UNKNOWN", message)


# A check a local send must pass before it is built, run under the room's lock:
# ``(room_id, sender, event_type, content, state_key)``; raises ``MatrixError``.
SendCheck = Callable[[str, str, str, Mapping[str, Any], str | None], Awaitable[None]]


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
        self.writer = EventWriter(store, rooms, bus, clock, server_name)
        # Subsystems' rules for local sends (e.g. relations: no duplicate reactions).
        self.send_checks: list[SendCheck] = []
        # Set when federation is on: an invite of a remote user goes to their server to
        # be countersigned before we persist it (spec: server-server "Inviting to a room").
        self.remote_invite: Callable[[Event, RoomInfo], Awaitable[Event]] | None = None

    async def start(self) -> None:
        await self.writer.start()

    @property
    def persisted_upto(self) -> int:
        """The stream position up to which everything is committed and published."""
        return self.writer.persisted_upto

    @property
    def persist_hooks(self) -> list[PersistHook]:
        """See ``EventWriter.persist_hooks``."""
        return self.writer.persist_hooks

    @property
    def backward_counter(self) -> StreamCounter:
        return self.writer.backward_counter

    def room_lock(self, room_id: str) -> asyncio.Lock:
        """Held while an event of the room is checked and persisted."""
        return self._lock(room_id)

    async def persist_planned(self, info: RoomInfo, event: Event, plan: Plan) -> PersistedEvent:
        """Persist an event checked elsewhere (``rooms.remote_events``), under the room
        lock its caller holds."""
        return await self.writer.persist(info, event, None, plan=plan)

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
                    return await self.writer.persist(info, event, None, create_room=True)
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
        ts: int | None = None,
    ) -> PersistedEvent:
        """Build, authorise and persist a local event in ``room_id``; ``ts``: its
        ``origin_server_ts`` instead of now (application services' timestamp massaging).

        Raises ``MatrixError``: 404 for an unknown room, 403 ``M_FORBIDDEN`` when the
        auth rules refuse it, 400 ``M_BAD_JSON`` when the event is malformed;
        ``StateChanged`` when ``if_state`` (a state key and the event id it must still
        hold, checked under the room lock) no longer holds.
        """
        if txn is None:
            return await self._send(
                room_id, sender, event_type, content, state_key, None, redacts, if_state, ts
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
                room_id, sender, event_type, content, state_key, txn, redacts, if_state, ts
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
        ts: int | None = None,
    ) -> PersistedEvent:
        async with self._lock(room_id):
            info = await self.rooms.room(room_id)
            if info is None:
                raise MatrixError(404, "M_NOT_FOUND", "Unknown room")
            if if_state is not None and info.state.get(if_state[0]) != if_state[1]:
                raise StateChanged(f"{if_state[0]} changed in {room_id}")
            for check in self.send_checks:
                await check(room_id, sender, event_type, content, state_key)
            event = await self._build_checked(
                info, sender, event_type, content, state_key, redacts, ts=ts
            )
            if (
                self.remote_invite is not None
                and event.type == "m.room.member"
                and event.membership == "invite"
                and event.state_key
                and not self.is_local(event.state_key)
            ):
                event = await self.remote_invite(event, info)
            return await self.writer.persist(info, event, txn)

    async def _build_checked(
        self,
        info: RoomInfo,
        sender: str,
        event_type: str,
        content: Mapping[str, Any],
        state_key: str | None,
        redacts: str | None = None,
        *,
        ts: int | None = None,
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
            ts=ts,
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
