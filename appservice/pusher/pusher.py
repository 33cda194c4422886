"""The application-service pusher: one queue per registration with a URL.

Room events: the bus announces each persisted event; the queues read them back from the
database in stream order (``queue.py``). Ephemeral data (spec: application-service API
"Pushing ephemeral data") comes from the typing, receipts and presence listeners and is
routed, in order, by one task that looks up the rooms it concerns; to-device messages
(MSC2409) wake the queues of the services that asked for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from homeserver.clock import Clock
from homeserver.lru import LruCache
from homeserver.rooms.bus import PersistedEvent
from homeserver.storage.receipts_store import Receipt
from homeserver.storage.store import Store

from ..client import AppServiceClient
from ..registration import Registration
from .interest import (
    RoomInfo,
    interested_in_presence,
    interested_in_room,
    room_aliases,
)
from .queue import AppServiceQueue, BackoffPolicy, PusherContext

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]

ROOM_CACHE = 10_000
RECEIPT_TYPES = ("m.read", "m.read.private")
PRIVATE_RECEIPT = "m.read.private"
# Events that change what a room's interest depends on.
ROOM_INFO_TYPES = frozenset({"m.room.member", "m.room.canonical_alias"})

_Job = Callable[[], Awaitable[None]]


class AppServicePusher:
    def __init__(
        self,
        registrations: Sequence[Registration],
        *,
        store: Store,
        client: AppServiceClient,
        clock: Clock,
        typing_in: Callable[[str], Collection[str]] | None = None,
        backoff: BackoffPolicy | None = None,
    ) -> None:
        self.store = store
        self.ctx = PusherContext(
            store=store,
            client=client,
            clock=clock,
            backoff=backoff or BackoffPolicy(),
            room_info=self.room_info,
        )
        self.queues = {reg.id: AppServiceQueue(self.ctx, reg) for reg in registrations if reg.url}
        self._typing_in = typing_in
        self._rooms: LruCache[str, RoomInfo] = LruCache(ROOM_CACHE)
        self._room_generation: dict[str, int] = {}
        self._jobs: deque[_Job] = deque()
        self._jobs_ready = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._typists: dict[str, tuple[str, ...]] = {}

    @property
    def backoff(self) -> BackoffPolicy:
        return self.ctx.backoff

    @backoff.setter
    def backoff(self, policy: BackoffPolicy) -> None:
        self.ctx.backoff = policy

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        self.ctx.stream_upto = await self.store.events.max_stream_ordering()
        self.ctx.running = True
        for queue in self.queues.values():
            await queue.start()
        self._worker = asyncio.get_running_loop().create_task(self._work())

    async def stop(self) -> None:
        """Stop sending; pending transactions stay stored and go out after a restart."""
        self.ctx.running = False
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        for queue in self.queues.values():
            await queue.stop()

    def seen(self, as_id: str) -> None:
        """The service answered (a ping): end its backoff."""
        queue = self.queues.get(as_id)
        if queue is not None:
            queue.seen()

    # -- room events ----------------------------------------------------------------

    def on_event(self, item: PersistedEvent) -> None:
        """Bus subscriber (in the order of the room-events stream)."""
        event = item.event
        if event.type in ROOM_INFO_TYPES:
            gen = self._room_generation.get(event.room_id, 0) + 1
            self._room_generation[event.room_id] = gen
            self._rooms.pop(event.room_id)
        if item.stream_ordering > self.ctx.stream_upto:
            self.ctx.stream_upto = item.stream_ordering
            for queue in self.queues.values():
                queue.wake()

    async def room_info(self, room_id: str) -> RoomInfo:
        """The room's current members and aliases (cached until they change)."""
        cached = self._rooms.get(room_id)
        if cached is not None:
            return cached
        generation = self._room_generation.get(room_id, 0)
        members = frozenset(await self.store.state.joined_members(room_id))
        aliases: tuple[str, ...] = ()
        state = await self.store.state.get_current_state_ids(room_id)
        alias_id = state.get(("m.room.canonical_alias", ""))
        if alias_id is not None:
            stored = await self.store.events.get_event(alias_id)
            if stored is not None:
                aliases = room_aliases(stored.event.content)
        info = RoomInfo(members, aliases)
        if self._room_generation.get(room_id, 0) == generation:
            self._rooms.set(room_id, info)
        return info

    # -- ephemeral data -------------------------------------------------------------

    def _ephemeral_queues(self) -> list[AppServiceQueue]:
        return [q for q in self.queues.values() if q.reg.receive_ephemeral]

    def _submit(self, job: _Job) -> None:
        if self._ephemeral_queues():
            self._jobs.append(job)
            self._jobs_ready.set()

    def on_typing(self, room_id: str, user_id: str, typing: bool, timeout_ms: int) -> None:
        """``TypingTracker`` listener (called before the tracker updates its list)."""
        self._submit(lambda: self._typing_job(room_id))

    def on_receipt(self, receipt: Receipt) -> None:
        """``ReceiptsHandler`` listener."""
        if receipt.receipt_type in RECEIPT_TYPES:
            self._submit(lambda: self._receipt_job(receipt))

    def on_presence(self, user_id: str, content: JsonDict, rooms: Iterable[str]) -> None:
        """``PresenceHandler`` listener (``content``: the ``m.presence`` content)."""
        joined = tuple(rooms)
        self._submit(lambda: self._presence_job(user_id, content, joined))

    def on_to_device(self, users: AbstractSet[str]) -> None:
        """``ToDeviceStream`` listener: messages were stored for ``users``."""
        for queue in self.queues.values():
            if queue.reg.push_to_device and any(queue.reg.interested_in_user(u) for u in users):
                queue.to_device_added()

    async def on_device_lists(self, users: tuple[str, ...]) -> None:
        """``DeviceListStream`` change listener: ``users``' device lists changed. A
        service that asked (MSC3202) hears of those of its users and of the users
        sharing a room with one of them."""
        queues = [q for q in self.queues.values() if q.reg.device_lists]
        if not queues:
            return
        viewers = {user_id: await self.store.e2e_keys.viewers_of(user_id) for user_id in users}
        for queue in queues:
            reg = queue.reg
            concerned = [
                user_id
                for user_id in users
                if reg.interested_in_user(user_id)
                or any(reg.interested_in_user(v) for v in viewers[user_id])
            ]
            if concerned:
                queue.device_lists_changed(concerned)

    async def _typing_job(self, room_id: str) -> None:
        if self._typing_in is None:
            return
        typists = tuple(sorted(self._typing_in(room_id)))
        if self._typists.get(room_id, ()) == typists:
            return  # a refresh: nothing changed
        if typists:
            self._typists[room_id] = typists
        else:
            self._typists.pop(room_id, None)
        item = {"type": "m.typing", "room_id": room_id, "content": {"user_ids": list(typists)}}
        info = await self.room_info(room_id)
        for queue in self._ephemeral_queues():
            if interested_in_room(queue.reg, room_id, info):
                queue.add_ephemeral(item)

    async def _receipt_job(self, r: Receipt) -> None:
        entry: JsonDict = {"ts": r.ts}
        if r.thread_id:
            entry["thread_id"] = r.thread_id
        item = {
            "type": "m.receipt",
            "room_id": r.room_id,
            "content": {r.event_id: {r.receipt_type: {r.user_id: entry}}},
        }
        info = await self.room_info(r.room_id)
        for queue in self._ephemeral_queues():
            if r.receipt_type == PRIVATE_RECEIPT:
                # spec: private receipts only for the service's own users.
                if queue.reg.interested_in_user(r.user_id):
                    queue.add_ephemeral(item)
            elif interested_in_room(queue.reg, r.room_id, info):
                queue.add_ephemeral(item)

    async def _presence_job(self, user_id: str, content: JsonDict, rooms: Sequence[str]) -> None:
        item = {"type": "m.presence", "sender": user_id, "content": content}
        infos = [(room_id, await self.room_info(room_id)) for room_id in rooms]
        for queue in self._ephemeral_queues():
            if interested_in_presence(queue.reg, user_id, infos):
                queue.add_ephemeral(item)

    async def _work(self) -> None:
        while True:
            await self._jobs_ready.wait()
            self._jobs_ready.clear()
            while self._jobs:
                job = self._jobs.popleft()
                try:
                    await job()
                except Exception:
                    log.exception("application service ephemeral routing failed")
