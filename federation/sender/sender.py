"""The outbound side of federation: which server gets what, one queue per destination.

Every event persisted here whose sender is one of our users goes to the servers in its
room: those with a joined member, plus, for a membership event, the server of the
member it is about (a leave, kick or ban must reach the server that lost its user).
Never to ourselves, and only to servers in ``federation.domain_whitelist`` when one is
set. Events announced with ``federate=False`` stay here.

Announcements are handled in order by one task: for a batch of events it computes the
destinations, records each (destination, room)'s newest event in the database (what
catch-up resends after an outage or a restart) and only then queues the events.
EDUs from the rest of the server come through ``send_edu`` (one destination) or
``send_edu_to_rooms`` (the servers sharing rooms, in order with the events).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Callable, Collection, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from homeserver.clock import Clock
from homeserver.logs import fields
from homeserver.lru import LruCache
from homeserver.protocol.events import Event
from homeserver.rooms.bus import PersistedEvent
from homeserver.storage.federation_sender_store import DestinationRow
from homeserver.storage.store import Store

from .backoff import BackoffPolicy
from .queue import DestinationQueue, QueuedEdu, QueuedPdu, SenderContext, TransactionClient

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]

ROOM_SERVERS_CACHE = 10_000


@dataclass(frozen=True, slots=True)
class _RoomEdu:
    """An EDU for every server sharing any of ``room_ids`` (in order with events)."""

    room_ids: tuple[str, ...]
    edu_type: str
    content: JsonDict
    key: Hashable | None


def domain_of(user_id: str) -> str:
    """The server part of a user id ("" for something that is not one)."""
    return user_id.split(":", 1)[1] if user_id.startswith("@") and ":" in user_id else ""


class FederationSender:
    def __init__(
        self,
        *,
        server_name: str,
        store: Store,
        client: TransactionClient,
        clock: Clock,
        domain_whitelist: Collection[str] | None = None,
        backoff: BackoffPolicy | None = None,
        rand: Callable[[], float] = random.random,
        txn_prefix: str | None = None,
    ) -> None:
        self.server_name = server_name
        self.store = store
        self.domain_whitelist = None if domain_whitelist is None else frozenset(domain_whitelist)
        self.ctx = SenderContext(
            origin=server_name,
            store=store,
            client=client,
            clock=clock,
            random=rand,
            backoff=backoff or BackoffPolicy(),
            # Unique per process: a restart must not reuse an id the peer has seen.
            txn_prefix=txn_prefix or f"{clock.time_ms()}{int(rand() * 1e6):06d}",
        )
        self._queues: dict[str, DestinationQueue] = {}
        self._rows: dict[str, DestinationRow] = {}
        self._incoming: deque[PersistedEvent | _RoomEdu] = deque()
        self._incoming_ready = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._room_servers: LruCache[str, frozenset[str]] = LruCache(ROOM_SERVERS_CACHE)
        self._room_generation: dict[str, int] = {}

    @property
    def backoff(self) -> BackoffPolicy:
        return self.ctx.backoff

    @backoff.setter
    def backoff(self, policy: BackoffPolicy) -> None:
        self.ctx.backoff = policy

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Load the destinations' stored state, resume what was left undone."""
        store = self.store.federation_sender
        self._rows = {row.destination: row for row in await store.load_destinations()}
        catch_up, with_outbox = await store.destinations_to_wake()
        self.ctx.running = True
        for destination in sorted(catch_up | with_outbox):
            queue = self._queue(destination)
            if queue is None:
                continue
            queue.catching_up = destination in catch_up
            queue.has_outbox = destination in with_outbox
        for queue in list(self._queues.values()):
            queue.restore_backoff()
            queue.wake()
        self._worker = asyncio.get_running_loop().create_task(self._work())

    async def stop(self) -> None:
        """Stop sending. What is only in memory is lost by design: the stored positions
        and rooms make the next start catch every destination up."""
        self.ctx.running = False
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        for queue in list(self._queues.values()):
            await queue.stop()

    # -- the contract ---------------------------------------------------------------

    def send_edu(
        self, destination: str, edu_type: str, content: JsonDict, *, key: Hashable | None = None
    ) -> None:
        """Queue an EDU for ``destination``; a later one with the same ``(edu_type, key)``
        replaces it while it waits."""
        queue = self._queue(destination)
        if queue is not None:
            queue.queue_edu(None if key is None else (edu_type, key), QueuedEdu(edu_type, content))

    def send_pdu(self, event: Event, destinations: Collection[str]) -> None:
        """Send ``event`` to ``destinations`` (not tracked for catch-up)."""
        for destination in destinations:
            queue = self._queue(destination)
            if queue is not None:
                queue.queue_pdu(QueuedPdu(event, None))

    async def servers_in_room(self, room_id: str) -> set[str]:
        """The other servers with a user joined to ``room_id`` (never ours)."""
        cached = self._room_servers.get(room_id)
        if cached is None:
            generation = self._room_generation.get(room_id, 0)
            members = await self.store.state.joined_members(room_id)
            cached = frozenset(domain_of(m) for m in members) - {self.server_name, ""}
            if self._room_generation.get(room_id, 0) == generation:
                self._room_servers.set(room_id, cached)
        return set(cached)

    def on_destination_seen(self, server: str) -> None:
        """``server`` sent us a request (or answered one): end its backoff, send now."""
        queue = self._queues.get(server)
        if queue is not None:
            queue.seen()

    # -- beyond the contract --------------------------------------------------------

    def send_edu_to_rooms(
        self,
        room_ids: Iterable[str],
        edu_type: str,
        content: JsonDict,
        *,
        key: Hashable | None = None,
    ) -> None:
        """Queue an EDU for every server sharing any of ``room_ids``, after the events
        already announced (a typing or receipt EDU never overtakes its room's events)."""
        rooms = tuple(room_ids)
        if rooms:
            self._push(_RoomEdu(rooms, edu_type, content, key))

    def outbox_added(self, destinations: Iterable[str]) -> None:
        """Items were stored in the outbox for ``destinations``."""
        for destination in destinations:
            queue = self._queue(destination)
            if queue is not None:
                queue.outbox_added()

    def allowed(self, destination: str) -> bool:
        if not destination or destination == self.server_name:
            return False
        return self.domain_whitelist is None or destination in self.domain_whitelist

    def on_event(self, item: PersistedEvent) -> None:
        """Bus subscriber (in the order of the room-events stream)."""
        event = item.event
        if event.type == "m.room.member":
            # Membership changed: the room's servers are read again when next needed.
            self._room_generation[event.room_id] = self._room_generation.get(event.room_id, 0) + 1
            self._room_servers.pop(event.room_id)
        if getattr(item, "federate", True) is False:
            return
        if domain_of(event.sender) != self.server_name:
            return
        self._push(item)

    # -- internals ------------------------------------------------------------------

    def _queue(self, destination: str) -> DestinationQueue | None:
        queue = self._queues.get(destination)
        if queue is None:
            if not self.allowed(destination):
                return None
            queue = DestinationQueue(self.ctx, destination, self._rows.pop(destination, None))
            self._queues[destination] = queue
        return queue

    def _push(self, item: PersistedEvent | _RoomEdu) -> None:
        self._incoming.append(item)
        self._incoming_ready.set()

    async def _work(self) -> None:
        while True:
            await self._incoming_ready.wait()
            self._incoming_ready.clear()
            batch = list(self._incoming)
            self._incoming.clear()
            try:
                await self._dispatch(batch)
            except Exception:
                log.exception("federation sender failed to dispatch", extra=fields(n=len(batch)))

    async def _dispatch(self, batch: list[PersistedEvent | _RoomEdu]) -> None:
        planned: list[tuple[PersistedEvent | _RoomEdu, set[str]]] = []
        rows: list[tuple[str, str, str, int]] = []
        for item in batch:
            if isinstance(item, _RoomEdu):
                servers: set[str] = set()
                for room_id in item.room_ids:
                    servers |= await self.servers_in_room(room_id)
                planned.append((item, servers))
                continue
            event = item.event
            servers = await self.servers_in_room(event.room_id)
            if event.type == "m.room.member" and event.state_key:
                servers.add(domain_of(event.state_key))
            servers = {s for s in servers if self.allowed(s)}
            planned.append((item, servers))
            rows += [(s, event.room_id, event.event_id, item.stream_ordering) for s in servers]
        if rows:
            # Before queueing: catch-up relies on finding every queued event stored.
            await self.store.federation_sender.record_destination_rooms(rows)
        for item, servers in planned:
            for destination in sorted(servers):
                if isinstance(item, _RoomEdu):
                    self.send_edu(destination, item.edu_type, item.content, key=item.key)
                    continue
                queue = self._queue(destination)
                if queue is not None:
                    queue.queue_pdu(QueuedPdu(item.event, item.stream_ordering))
