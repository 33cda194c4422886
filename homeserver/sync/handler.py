"""``/sync``: what changed for a user since a token, long-polling when nothing did.

spec: client-server "Syncing" and ``GET /sync``. DESIGN.md "Read path": an
incremental sync starts from the notifier's in-memory view of what changed since
the token (rooms with new events, the user's membership changes, account data)
and visits only those rooms; an initial sync loads every room's recent timeline in
one read transaction. The WebSocket transport calls the same ``sync``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from homeserver.clock import Clock
from homeserver.rooms.room_state import RoomStateCache
from homeserver.storage import sync_store
from homeserver.storage.account_data_store import AccountDataItem
from homeserver.storage.database import Txn
from homeserver.storage.events_store import StoredEvent
from homeserver.storage.store import Store

from . import render
from .extensions import SyncContext, SyncExtension
from .filtering import SyncFilter
from .memberships import UserRooms
from .notifier import Notifier
from .room_data import LoadedRooms, RoomPlan, load_rooms
from .tokens import StreamToken

JsonDict = dict[str, Any]

# spec: GET /sync "timeout" — the client's value, up to this.
MAX_TIMEOUT_MS = 30_000
PRESENCE_STATES = ("online", "offline", "unavailable")


@dataclass(frozen=True, slots=True)
class SyncRequest:
    user_id: str
    device_id: str
    filter: SyncFilter = field(default_factory=SyncFilter)
    since: StreamToken | None = None
    full_state: bool = False
    timeout_ms: int = 0
    set_presence: str = "online"  # accepted; presence itself is not tracked yet


SECTIONS = ("join", "invite", "leave", "knock")


@dataclass
class SyncResult:
    next_batch: StreamToken
    rooms: dict[str, dict[str, JsonDict]] = field(
        default_factory=lambda: {section: {} for section in SECTIONS}
    )
    account_data: list[JsonDict] = field(default_factory=list)
    rooms_visited: int = 0
    # Filled by extensions (homeserver/sync/extensions.py).
    presence: list[JsonDict] = field(default_factory=list)
    to_device: list[JsonDict] = field(default_factory=list)
    device_lists_changed: list[str] = field(default_factory=list)
    device_lists_left: list[str] = field(default_factory=list)
    one_time_keys_count: dict[str, int] = field(default_factory=dict)
    unused_fallback_key_types: list[str] | None = None
    preloaded: dict[str, Any] = field(default_factory=dict)  # see room_load_hooks

    @property
    def empty(self) -> bool:
        """Nothing a client needs to see (counts alone are not news)."""
        return not (
            self.account_data
            or any(self.rooms.values())
            or self.presence
            or self.to_device
            or self.device_lists_changed
            or self.device_lists_left
        )

    def joined_room(self, room_id: str) -> JsonDict:
        """The ``rooms.join`` entry of ``room_id``, created empty if the room had no news."""
        entry = self.rooms["join"].get(room_id)
        if entry is None:
            entry = self.rooms["join"][room_id] = {
                "timeline": {"events": [], "limited": False},
                "state": {"events": []},
                "account_data": {"events": []},
                "ephemeral": {"events": []},
            }
        entry.setdefault("ephemeral", {"events": []})
        return entry

    def to_json(self) -> JsonDict:
        body: JsonDict = {
            "next_batch": self.next_batch.encode(),
            "rooms": self.rooms,
            "account_data": {"events": self.account_data},
            "presence": {"events": self.presence},
            "to_device": {"events": self.to_device},
            "device_lists": {"changed": self.device_lists_changed, "left": self.device_lists_left},
            "device_one_time_keys_count": self.one_time_keys_count,
        }
        if self.unused_fallback_key_types is not None:
            body["device_unused_fallback_key_types"] = self.unused_fallback_key_types
        return body


class SyncHandler:
    def __init__(
        self,
        store: Store,
        rooms: RoomStateCache,
        notifier: Notifier,
        clock: Clock,
        *,
        max_timeout_ms: int = MAX_TIMEOUT_MS,
    ) -> None:
        self.store = store
        self.rooms = rooms
        self.notifier = notifier
        self.clock = clock
        self.max_timeout_ms = max_timeout_ms
        self.extensions: list[SyncExtension] = []
        # Run as each sync request starts, before its token is minted (presence marks
        # the user as here, so their own change lands in this response's window).
        self.request_hooks: list[Callable[[SyncRequest], Awaitable[None]]] = []
        # Reads run inside the rooms' own read transaction (one DB hop for both):
        # ``hook(txn, user_id, joined_room_ids)``, results in ``SyncResult.preloaded``.
        self.room_load_hooks: dict[str, Callable[[Txn, str, list[str]], Any]] = {}
        # Run before an initial sync, with the user id (push: make sure the user's
        # ``m.push_rules`` account data exists, so the sync carries it).
        self.initial_sync_hooks: list[Callable[[str], Awaitable[None]]] = []

    def add_extension(self, extension: SyncExtension) -> None:
        """Another stream in every sync response (and in the notifier's tokens)."""
        self.extensions.append(extension)
        self.notifier.extensions.append(extension)

    async def sync(self, req: SyncRequest) -> SyncResult:
        """One ``/sync`` answer: immediately when there is news (or for an initial or
        full-state sync), else when news arrives or the timeout passes."""
        if req.since is None:
            for hook in self.initial_sync_hooks:
                await hook(req.user_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(req.timeout_ms, 0), self.max_timeout_ms) / 1000
        result = await self.current_sync(req)
        if req.since is None or req.full_state:
            return result
        while result.empty:
            user_rooms = await self._memberships(req.user_id)
            since = result.next_batch
            remaining = deadline - loop.time()
            woken = await self.notifier.wait(
                req.user_id, user_rooms.joined, since, remaining, req.device_id
            )
            if not woken and not self.notifier.has_news(
                req.user_id, user_rooms.joined, since, req.device_id
            ):
                # Nothing for this user up to now: the token may move to the present.
                result.next_batch = self.notifier.current_token(since)
                return result
            result = await self.current_sync(dataclasses.replace(req, since=since))
            if loop.time() >= deadline:
                return result
        return result

    async def current_sync(self, req: SyncRequest) -> SyncResult:
        """What changed for the user between ``req.since`` and now (no waiting)."""
        for hook in self.request_hooks:
            await hook(req)
        user_rooms = await self._memberships(req.user_id)
        # No await between the snapshot and the positions: they describe one instant.
        token = self.notifier.current_token(req.since)
        since = req.since
        candidates: set[str] | None = None
        if since is not None and not req.full_state:
            candidates = self.notifier.rooms.changed_among(user_rooms.joined, since.room_events)
        member_changed = self._membership_changes(req.user_id, user_rooms, since)
        items = await self._account_data(req.user_id, since, token)
        if candidates is None and since is not None and not req.full_state:
            # The token predates what the change cache remembers: ask the database.
            candidates = await self.store.db.read(
                sync_store.rooms_with_events,
                sorted(user_rooms.joined),
                since.room_events,
                token.room_events,
            )
        if candidates is not None:
            candidates |= {i.room_id for i in items if i.room_id in user_rooms.joined}
        plans = self._plans(req, user_rooms, candidates, member_changed, token.room_events)
        result = SyncResult(next_batch=token, rooms_visited=len(plans))
        result.account_data = [
            {"type": i.type, "content": i.content}
            for i in items
            if i.room_id is None and req.filter.account_data.matches(i.type)
        ]
        if plans:
            await self._build_rooms(req, plans, items, result)
        if self.extensions:
            ctx = SyncContext(
                req.user_id, req.device_id, user_rooms.joined, since, token, req.full_state
            )
            for extension in self.extensions:
                await extension.fill(req, ctx, result)
        return result

    async def _memberships(self, user_id: str) -> UserRooms:
        """The user's memberships, never ahead of the notifier's position.

        A snapshot read from the database may hold a membership committed but not yet
        announced on the bus (the announcement follows the commit in the same task);
        waiting for it keeps the snapshot and the sync position consistent.
        """
        user_rooms = await self.notifier.memberships.get(user_id)
        for _ in range(100):
            if user_rooms.newest <= self.notifier.room_position:
                break
            await asyncio.sleep(0.001)
            user_rooms = await self.notifier.memberships.get(user_id)
        return user_rooms

    def _membership_changes(
        self, user_id: str, user_rooms: UserRooms, since: StreamToken | None
    ) -> set[str]:
        if since is None or not self.notifier.member_changes.has_changed(
            user_id, since.room_events
        ):
            return set()
        return {
            room_id
            for room_id, m in user_rooms.by_room.items()
            if m.stream_ordering > since.room_events
        }

    async def _account_data(
        self, user_id: str, since: StreamToken | None, token: StreamToken
    ) -> list[AccountDataItem]:
        after = 0 if since is None else since.account_data
        if since is not None and not self.notifier.account_data.has_changed(user_id, after):
            return []
        return await self.store.account_data.since(user_id, after, token.account_data)

    def _plans(
        self,
        req: SyncRequest,
        user_rooms: UserRooms,
        candidates: set[str] | None,
        member_changed: set[str],
        upto: int,
    ) -> list[RoomPlan]:
        room_filter = req.filter.room
        since = req.since
        after = None if since is None else since.room_events
        initial = since is None
        if candidates is None:  # initial or full_state: every room the user is in
            candidates = set(user_rooms.joined)
        plans: list[RoomPlan] = []
        for room_id in sorted(candidates | member_changed):
            m = user_rooms.by_room.get(room_id)
            if m is None or not room_filter.allows_room(room_id):
                continue
            changed = room_id in member_changed
            if m.membership == "join":
                plans.append(
                    RoomPlan(
                        room_id,
                        "join",
                        m,
                        after,
                        upto,
                        full_state=initial or req.full_state,
                        check_membership=changed,
                    )
                )
            elif m.membership in ("invite", "knock") and changed:
                plans.append(RoomPlan(room_id, m.membership, m, after, upto, full_state=False))
            elif m.membership in ("leave", "ban") and changed:
                plans.append(
                    RoomPlan(
                        room_id,
                        "leave",
                        m,
                        after,
                        min(m.stream_ordering, upto),
                        full_state=req.full_state,
                        check_membership=True,
                    )
                )
        if initial:
            plans += self._initial_non_joined(req, user_rooms, upto)
        return plans

    def _initial_non_joined(
        self, req: SyncRequest, user_rooms: UserRooms, upto: int
    ) -> list[RoomPlan]:
        room_filter = req.filter.room
        plans: list[RoomPlan] = []
        for room_id, m in sorted(user_rooms.by_room.items()):
            if not room_filter.allows_room(room_id) or m.stream_ordering > upto:
                continue
            if m.membership in ("invite", "knock"):
                plans.append(RoomPlan(room_id, m.membership, m, None, upto, full_state=False))
            elif m.membership in ("leave", "ban") and room_filter.include_leave:
                # spec: RoomFilter.include_leave — rooms the user has left, up to the leave.
                plans.append(
                    RoomPlan(
                        room_id,
                        "leave",
                        m,
                        None,
                        m.stream_ordering,
                        full_state=True,
                        check_membership=True,
                    )
                )
        return plans

    def _timeline_accept(self, sync_filter: SyncFilter) -> Callable[[StoredEvent], bool]:
        timeline = sync_filter.room.timeline

        def accept(stored: StoredEvent) -> bool:
            event = stored.event
            return timeline.matches(
                event.type, sender=event.sender, room_id=event.room_id, content=event.content
            )

        return accept

    async def _build_rooms(
        self,
        req: SyncRequest,
        plans: list[RoomPlan],
        items: list[AccountDataItem],
        result: SyncResult,
    ) -> None:
        sync_filter = req.filter
        limit = 0 if sync_filter.room.timeline.includes_nothing else sync_filter.timeline_limit
        accept = self._timeline_accept(sync_filter)
        joined = [p.room_id for p in plans if p.section == "join"]
        hooks = self.room_load_hooks

        def rooms_and_hooks(txn: Txn) -> tuple[LoadedRooms, dict[str, Any]]:
            rooms = load_rooms(
                txn,
                plans,
                req.user_id,
                req.device_id,
                limit,
                accept,
                sync_filter.room.state.lazy_load_members,
                self.store.state.groups,
                self.store.relations.rooms,
            )
            return rooms, {name: hook(txn, req.user_id, joined) for name, hook in hooks.items()}

        loaded, result.preloaded = await self.store.db.read(rooms_and_hooks)
        state_ids: dict[str, list[str]] = {}
        wanted: list[str] = []
        for room_id, room in loaded.rooms.items():
            if room.plan.section in ("invite", "knock"):
                ids = list(room.stripped_ids.values())
            else:
                ids = render.state_ids_to_send(room, sync_filter, req.user_id)
            state_ids[room_id] = ids
            wanted += ids
        events = await self.rooms.get_events(wanted) if wanted else {}
        ctx = render.RenderContext(self.clock.time_ms(), sync_filter, loaded.extras)
        room_data: dict[str, list[JsonDict]] = {}
        ad_filter = sync_filter.room.account_data
        for item in items:
            if item.room_id is not None and ad_filter.matches(item.type, room_id=item.room_id):
                room_data.setdefault(item.room_id, []).append(
                    {"type": item.type, "content": item.content}
                )
        incremental = req.since is not None
        for room_id, room in loaded.rooms.items():
            section = room.plan.section
            if section == "invite":
                result.rooms["invite"][room_id] = {
                    "invite_state": {"events": render.stripped_state(room, events)}
                }
            elif section == "knock":
                result.rooms["knock"][room_id] = {
                    "knock_state": {"events": render.stripped_state(room, events)}
                }
            else:
                build = render.joined_room if section == "join" else render.left_room
                body = build(room, state_ids[room_id], events, room_data.get(room_id, []), ctx)
                if (
                    incremental
                    and section == "join"
                    and not room.full_state
                    and not body["timeline"]["events"]
                    and not body["state"]["events"]
                    and not body["account_data"]["events"]
                ):
                    continue  # the room's news was all filtered out
                result.rooms[section][room_id] = body
