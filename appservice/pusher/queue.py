"""One application service's transactions: built in stream order, one in flight.

spec: application-service API "Pushing events" — events are linearised as in the event
stream; the homeserver keeps a queue of transactions, backs off exponentially while the
application service cannot be reached, and a retry resends the same transaction id with
exactly the same content.

The queue reads room events from the database past its stored position (so a restart
resumes where it stopped), keeps those the service is interested in, and stores the
transaction together with the new position before sending it: an event is in exactly
one transaction, and that transaction is retried until it is acknowledged. Ephemeral
data (typing, receipts, presence) and device-list changes (MSC3202) are held in memory
until they go into a transaction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from homeserver.backoff_worker import BackoffPolicy as BackoffPolicy
from homeserver.backoff_worker import BackoffWorker
from homeserver.clock import Clock
from homeserver.logs import fields
from homeserver.rooms.client_format import client_event
from homeserver.storage.appservice_store import PendingTxn
from homeserver.storage.store import Store

from ..client import AppServiceClient
from ..registration import Registration
from .interest import RoomInfo, interested_in_event

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]

TRANSACTION_TIMEOUT_S = 60.0
MAX_EVENTS = 100  # per transaction
MAX_EPHEMERAL = 100
MAX_TO_DEVICE = 100
MAX_QUEUED_EPHEMERAL = 1_000  # waiting in memory; the oldest go beyond it

# Body keys: the spec's ``ephemeral`` (v1.13) and MSC2409's, which bridges still read.
EPHEMERAL_KEYS = ("ephemeral", "de.sorunome.msc2409.ephemeral")
TO_DEVICE_KEY = "de.sorunome.msc2409.to_device"
DEVICE_LISTS_KEY = "org.matrix.msc3202.device_lists"
MAX_DEVICE_LIST_USERS = 1_000  # per transaction


class TransactionFailed(Exception):
    """The application service answered a transaction with something else than 2xx."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


@dataclass
class PusherContext:
    """What every application service's queue shares."""

    store: Store
    client: AppServiceClient
    clock: Clock
    backoff: BackoffPolicy
    room_info: Callable[[str], Awaitable[RoomInfo]]
    stream_upto: int = 0  # the newest room event announced on the bus
    running: bool = False


@dataclass
class _Progress:
    position: int = 0
    to_device_position: int = 0
    retry_last_ts: int = 0
    retry_interval_ms: int = 0
    to_device_news: bool = True
    pending: list[PendingTxn] = field(default_factory=list)


class AppServiceQueue(BackoffWorker):
    def __init__(self, ctx: PusherContext, reg: Registration) -> None:
        super().__init__()
        self.ctx = ctx
        self.reg = reg
        self.p = _Progress()
        self._ephemeral: list[JsonDict] = []
        self._device_changes: dict[str, None] = {}  # users, in order (MSC3202)

    # -- producers ------------------------------------------------------------------

    def add_ephemeral(self, item: JsonDict) -> None:
        self._ephemeral.append(item)
        if len(self._ephemeral) > MAX_QUEUED_EPHEMERAL:
            del self._ephemeral[0]
        self.wake()

    def device_lists_changed(self, users: Iterable[str]) -> None:
        for user_id in users:
            self._device_changes.pop(user_id, None)
            self._device_changes[user_id] = None
        self.wake()

    def to_device_added(self) -> None:
        self.p.to_device_news = True
        self.wake()

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Load the stored position, pending transactions and backoff; resume."""
        store = self.ctx.store
        state = await store.appservice.load_state(
            self.reg.id, self.ctx.stream_upto, await store.to_device.position()
        )
        self.p = _Progress(
            position=state.stream_position,
            to_device_position=state.to_device_position,
            retry_last_ts=state.retry_last_ts,
            retry_interval_ms=state.retry_interval_ms,
            pending=await store.appservice.pending_txns(self.reg.id),
        )
        if self.p.retry_interval_ms > 0:
            left = self.p.retry_last_ts + self.p.retry_interval_ms - self.ctx.clock.time_ms()
            if left > 0:
                self._start_backoff(left)
        self.wake()

    def _running(self) -> bool:
        return self.ctx.running

    def seen(self) -> None:
        """The service is up (it answered a ping): stop waiting, send now."""
        self._end_backoff()
        self.wake()

    # -- the transmission loop ------------------------------------------------------

    def _has_work(self) -> bool:
        return bool(
            self.p.pending
            or self._ephemeral
            or self._device_changes
            or self.p.position < self.ctx.stream_upto
            or (self.p.to_device_news and self.reg.push_to_device)
        )

    async def _run(self) -> None:
        try:
            # The last check and the end of the task happen without an await between:
            # whatever a producer added meanwhile is seen.
            while self.ctx.running and not self.backing_off and self._has_work():
                if not self.p.pending:
                    await self._build()
                    continue
                txn = self.p.pending[0]
                try:
                    await self._send(txn)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    await self._failed(txn, exc)
                    return
                await self.ctx.store.appservice.txn_sent(self.reg.id, txn.txn_id)
                del self.p.pending[0]
                if self.p.retry_interval_ms:
                    log.info("application service is back", extra=fields(appservice=self.reg.id))
                self.p.retry_interval_ms = 0
        except asyncio.CancelledError:
            raise
        except Exception:
            # The database failed us: what is stored is intact, try again later.
            log.exception("application service queue failed", extra=fields(appservice=self.reg.id))
            self.p.to_device_news = True
            if self.ctx.running:
                self._start_backoff(self.ctx.backoff.min_ms)
        finally:
            self._task = None

    async def _send(self, txn: PendingTxn) -> None:
        """spec: ``PUT /_matrix/app/v1/transactions/{txnId}``; 200 acknowledges it."""
        response = await self.ctx.client.request(
            self.reg,
            "PUT",
            f"/_matrix/app/v1/transactions/{txn.txn_id}",  # digits: nothing to quote
            json_body=txn.body,
            timeout=TRANSACTION_TIMEOUT_S,
        )
        if not 200 <= response.status < 300:
            raise TransactionFailed(response.status)

    async def _build(self) -> None:
        """Put what comes next into a stored transaction (or only move the positions
        past events the service is not interested in)."""
        store = self.ctx.store
        upto = self.ctx.stream_upto
        stored = await store.appservice.timeline_events(self.p.position, upto, MAX_EVENTS)
        position = stored[-1].stream_ordering if len(stored) == MAX_EVENTS else upto
        position = max(position, self.p.position)
        now = self.ctx.clock.time_ms()
        events: list[JsonDict] = []
        rooms: dict[str, RoomInfo] = {}
        for item in stored:
            room_id = item.event.room_id
            if room_id not in rooms:
                rooms[room_id] = await self.ctx.room_info(room_id)
            if interested_in_event(self.reg, item.event, rooms[room_id]):
                events.append(client_event(item.event, now_ms=now))
        to_device: list[JsonDict] = []
        to_device_position = self.p.to_device_position
        if self.reg.push_to_device and self.p.to_device_news:
            self.p.to_device_news = False
            td_upto = await store.to_device.position()
            rows = await store.appservice.to_device_messages(
                to_device_position, td_upto, MAX_TO_DEVICE
            )
            if len(rows) == MAX_TO_DEVICE:
                self.p.to_device_news = True  # more after these
                td_upto = rows[-1].stream_id
            to_device_position = max(to_device_position, td_upto)
            to_device = [
                {**row.message, "to_user_id": row.user_id, "to_device_id": row.device_id}
                for row in rows
                if self.reg.interested_in_user(row.user_id)
            ]
        # Memory last: nothing is taken before an await that could lose it.
        ephemeral = self._ephemeral[:MAX_EPHEMERAL]
        changed = list(self._device_changes)[:MAX_DEVICE_LIST_USERS]
        body: JsonDict | None = None
        if events or ephemeral or to_device or changed:
            body = {"events": events}
            if ephemeral:
                for key in EPHEMERAL_KEYS:
                    body[key] = ephemeral
            if to_device:
                body[TO_DEVICE_KEY] = to_device
            if changed:
                body[DEVICE_LISTS_KEY] = {"changed": changed, "left": []}
        if body is None and (position, to_device_position) == (
            self.p.position,
            self.p.to_device_position,
        ):
            return
        del self._ephemeral[: len(ephemeral)]
        for user_id in changed:
            del self._device_changes[user_id]
        txn = await store.appservice.create_txn(self.reg.id, body, position, to_device_position)
        self.p.position, self.p.to_device_position = position, to_device_position
        if txn is not None:
            self.p.pending.append(txn)

    async def _failed(self, txn: PendingTxn, exc: Exception) -> None:
        now = self.ctx.clock.time_ms()
        self.p.retry_interval_ms = self.ctx.backoff.next_interval(self.p.retry_interval_ms)
        self.p.retry_last_ts = now
        log.warning(
            "application service transaction failed",
            extra=fields(
                appservice=self.reg.id,
                txn_id=txn.txn_id,
                status=getattr(exc, "status", None),
                error=str(exc),
                retry_in_ms=self.p.retry_interval_ms,
            ),
        )
        await self.ctx.store.appservice.set_backoff(self.reg.id, now, self.p.retry_interval_ms)
        self._start_backoff(self.p.retry_interval_ms)
