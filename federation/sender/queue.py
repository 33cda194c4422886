"""One destination's outgoing queue: at most one ``/send`` transaction in flight.

spec: server-server "Transactions" — PDUs and EDUs go to a server in transactions of at
most 50 PDUs and 100 EDUs, each under a transaction id unique for that server; "the
sending server must wait and retry for a 200 OK response before sending a transaction
with a different txnId".

States of a destination:
- idle or sending: queued items go out in order, one transaction at a time;
- backing off after a failure (exponential, persisted): nothing is attempted until the
  wait is over or the destination is seen again (``seen``);
- catching up: room events were dropped (a failure, a restart). Instead of replaying
  them, each room's newest event meant for the destination is sent (from
  ``federation_destination_rooms``, past its acknowledged position); the destination
  fetches what lies between with ``/get_missing_events``. Then normal sending resumes.

Room events live in memory only while a transaction may carry them soon; what must
survive a restart is in the database (the position, the rooms' newest events, the
to-device outbox). EDUs other than the outbox are best effort: kept through failures
(coalesced by key, capped), except typing, which is stale by the next attempt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

from homeserver.backoff_worker import BackoffWorker
from homeserver.clock import Clock
from homeserver.logs import fields
from homeserver.protocol.events import Event
from homeserver.protocol.federation_pdu import pdu_for_federation
from homeserver.storage.federation_sender_store import DestinationRow, OutboxItem
from homeserver.storage.store import Store

from .backoff import BackoffPolicy

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]

MAX_PDUS = 50  # spec: "at most 50 PDUs and 100 EDUs"
MAX_EDUS = 100
MAX_QUEUED_EDUS = 5_000  # per destination; the oldest go first beyond it
MAX_QUEUED_EXPLICIT_PDUS = 1_000  # ``send_pdu`` items waiting out a backoff
TRANSACTION_TIMEOUT_S = 60.0
# EDUs not worth resending after a failed attempt: stale by the time it succeeds.
PERISHABLE_EDUS = frozenset({"m.typing"})
# A 4xx on the whole transaction that says its content is at fault: resending the same
# outbox items would fail forever.
REJECTED_CONTENT = frozenset({400, 413})


class TransactionClient(Protocol):
    """What the queue needs of ``federation.client.FederationClient``."""

    async def put_json(
        self, destination: str, path: str, body: Any, query: Any = None, *, timeout: float = 60.0
    ) -> Any: ...


@dataclass
class SenderContext:
    """What every destination queue shares."""

    origin: str  # our server name
    store: Store
    client: TransactionClient
    clock: Clock
    random: Callable[[], float]
    backoff: BackoffPolicy
    txn_prefix: str
    running: bool = False
    _counter: int = 0

    def next_txn_id(self) -> str:
        self._counter += 1
        return f"{self.txn_prefix}.{self._counter}"


@dataclass(slots=True)
class QueuedPdu:
    event: Event
    # The room-events stream position of a local event announced on the bus; None for
    # one passed to ``send_pdu`` (not tracked for catch-up).
    stream: int | None


@dataclass(slots=True)
class QueuedEdu:
    edu_type: str
    content: JsonDict


@dataclass(slots=True)
class _Batch:
    pdus: list[QueuedPdu]
    edus: list[tuple[Hashable, QueuedEdu]]
    outbox: list[OutboxItem] = field(default_factory=list)


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a failed request (``FederationRequestError.status``), if any."""
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) else None


class DestinationQueue(BackoffWorker):
    def __init__(self, ctx: SenderContext, destination: str, row: DestinationRow | None) -> None:
        super().__init__()
        self.ctx = ctx
        self.destination = destination
        self.retry_interval_ms = row.retry_interval_ms if row else 0
        self.retry_last_ts = row.retry_last_ts if row else 0
        self.failure_ts = row.failure_ts if row else None
        self.last_successful_stream = row.last_successful_stream if row else 0
        # The stored row holds a backoff that a success must clear.
        self._backoff_stored = bool(row and (row.retry_interval_ms or row.failure_ts))
        self.catching_up = False
        self.has_outbox = False
        self._pdus: list[QueuedPdu] = []
        self._edus: dict[Hashable, QueuedEdu] = {}

    # -- producers ------------------------------------------------------------------

    def queue_pdu(self, pdu: QueuedPdu) -> None:
        if pdu.stream is not None and self.catching_up and self._task is None:
            return  # catch-up sends the room's newest event (it is in the database)
        if pdu.stream is None and self.backing_off:
            explicit = sum(1 for p in self._pdus if p.stream is None)
            if explicit >= MAX_QUEUED_EXPLICIT_PDUS:
                log.warning(
                    "federation queue full: event dropped",
                    extra=fields(destination=self.destination, event_id=pdu.event.event_id),
                )
                return
        self._pdus.append(pdu)
        self.wake()

    def queue_edu(self, key: Hashable | None, edu: QueuedEdu) -> None:
        """Queue an EDU; one with the same ``key`` still waiting is replaced."""
        if key is None:
            key = object()  # never equal to another: nothing replaces it
        else:
            self._edus.pop(key, None)  # the newer one goes to the back
        self._edus[key] = edu
        if len(self._edus) > MAX_QUEUED_EDUS:
            del self._edus[next(iter(self._edus))]
        self.wake()

    def outbox_added(self) -> None:
        self.has_outbox = True
        self.wake()

    # -- lifecycle ------------------------------------------------------------------

    def restore_backoff(self) -> None:
        """At start: keep waiting out a stored backoff."""
        if self.retry_interval_ms <= 0:
            return
        due = self.retry_last_ts + self.retry_interval_ms
        left_ms = due - self.ctx.clock.time_ms()
        if left_ms > 0:
            self._start_backoff(left_ms)

    def seen(self) -> None:
        """The destination answered us or sent us a request: it is up, stop waiting."""
        was_backing_off = self._end_backoff()
        if was_backing_off or self.retry_interval_ms:
            self.retry_interval_ms = 0
            log.info("federation destination is back", extra=fields(destination=self.destination))
        self.wake()

    def _running(self) -> bool:
        return self.ctx.running

    # -- the transmission loop ------------------------------------------------------

    async def _run(self) -> None:
        try:
            while self.ctx.running and not self.backing_off:
                batch = await self._next_batch()
                if batch is None:
                    if self._backoff_stored and not self.retry_interval_ms:
                        # Seen while there was nothing to send: store the end of backoff.
                        await self.ctx.store.federation_sender.set_backoff(
                            self.destination, 0, 0, None
                        )
                        self._backoff_stored = False
                        continue  # things may have been queued meanwhile
                    break
                await self._transmit(batch)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("federation queue failed", extra=fields(destination=self.destination))
        finally:
            self._task = None

    async def _next_batch(self) -> _Batch | None:
        """The next transaction's content, or None when there is nothing to send.

        Database reads come first; memory is taken after the last await, so whatever
        was queued meanwhile is seen before the loop decides it is done."""
        outbox: list[OutboxItem] = []
        if self.has_outbox:
            self.has_outbox = False
            outbox = await self.ctx.store.federation_sender.outbox(self.destination, MAX_EDUS)
            if outbox:
                self.has_outbox = True  # until a read finds it empty
        pdus: list[QueuedPdu] = []
        if self.catching_up:
            pdus = await self._catch_up_pdus()
        if not self.catching_up:
            # The catch-up covered every room event up to the acknowledged position.
            taken = self._pdus[:MAX_PDUS]
            del self._pdus[:MAX_PDUS]
            pdus += [p for p in taken if p.stream is None or p.stream > self.last_successful_stream]
        room = MAX_EDUS - len(outbox)
        edus: list[tuple[Hashable, QueuedEdu]] = []
        while self._edus and len(edus) < room:
            key = next(iter(self._edus))
            edus.append((key, self._edus.pop(key)))
        if not pdus and not edus and not outbox:
            return None if not self.has_outbox else await self._next_batch()
        return _Batch(pdus, edus, outbox)

    async def _catch_up_pdus(self) -> list[QueuedPdu]:
        # Room events announced so far are in the database (their rows are written before
        # they are queued), so the query below finds them: memory keeps what comes next.
        self._pdus = [p for p in self._pdus if p.stream is None]
        while True:
            found = await self.ctx.store.federation_sender.catch_up_events(
                self.destination, self.last_successful_stream, MAX_PDUS
            )
            if not found:
                self.catching_up = False
                log.info("federation catch-up done", extra=fields(destination=self.destination))
                return []
            stored = await self.ctx.store.events.get_events([item.event_id for item in found])
            pdus = [
                QueuedPdu(stored[item.event_id].event, item.stream_ordering)
                for item in found
                if item.event_id in stored
            ]
            if pdus:
                return pdus
            # The events are gone (purged): nothing to catch up with in those rooms.
            self.last_successful_stream = found[-1].stream_ordering

    async def _transmit(self, batch: _Batch) -> None:
        body: JsonDict = {
            "origin": self.ctx.origin,
            "origin_server_ts": self.ctx.clock.time_ms(),
            # Without our local ``unsigned`` data.
            "pdus": [pdu_for_federation(p.event.pdu) for p in batch.pdus],
        }
        edus = [{"edu_type": o.edu_type, "content": o.content} for o in batch.outbox]
        edus += [{"edu_type": e.edu_type, "content": e.content} for _, e in batch.edus]
        if edus:
            body["edus"] = edus
        txn_id = self.ctx.next_txn_id()
        path = f"/_matrix/federation/v1/send/{txn_id}"  # the id needs no quoting
        try:
            response = await self.ctx.client.put_json(
                self.destination, path, body, timeout=TRANSACTION_TIMEOUT_S
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failed(batch, exc)
            return
        await self._succeeded(batch, response, txn_id)

    async def _succeeded(self, batch: _Batch, response: Any, txn_id: str) -> None:
        streams = [p.stream for p in batch.pdus if p.stream is not None]
        last_stream = max(streams) if streams else None
        outbox_ids = [o.id for o in batch.outbox]
        if last_stream is not None or outbox_ids or self._backoff_stored:
            await self.ctx.store.federation_sender.transaction_sent(
                self.destination, last_stream, outbox_ids
            )
            self._backoff_stored = False
        if last_stream is not None:
            self.last_successful_stream = max(self.last_successful_stream, last_stream)
        if self.retry_interval_ms or self.failure_ts is not None:
            log.info("federation destination is back", extra=fields(destination=self.destination))
        self.retry_interval_ms = 0
        self.failure_ts = None
        _log_pdu_errors(self.destination, txn_id, response)

    async def _failed(self, batch: _Batch, exc: Exception) -> None:
        status = status_of(exc)
        now = self.ctx.clock.time_ms()
        self.retry_interval_ms = self.ctx.backoff.next_interval(
            self.retry_interval_ms, self.ctx.random
        )
        self.retry_last_ts = now
        if self.failure_ts is None:
            self.failure_ts = now
        log.warning(
            "federation transaction failed",
            extra=fields(
                destination=self.destination,
                status=status,
                error=str(exc),
                retry_in_ms=self.retry_interval_ms,
            ),
        )
        # Room events: dropped, catch-up will send each room's newest.
        dropped = [p for p in batch.pdus if p.stream is not None]
        dropped += [p for p in self._pdus if p.stream is not None]
        explicit = [p for p in batch.pdus if p.stream is None]
        self._pdus = explicit + [p for p in self._pdus if p.stream is None]
        if dropped:
            self.catching_up = True
        # Other EDUs: back at the front unless a newer one with the same key came.
        kept = {
            key: edu
            for key, edu in batch.edus
            if key not in self._edus and edu.edu_type not in PERISHABLE_EDUS
        }
        self._edus = {**kept, **self._edus}
        if batch.outbox and status in REJECTED_CONTENT:
            log.warning(
                "federation destination refused queued EDUs: dropped",
                extra=fields(destination=self.destination, count=len(batch.outbox)),
            )
            await self.ctx.store.federation_sender.delete_outbox([o.id for o in batch.outbox])
        await self.ctx.store.federation_sender.set_backoff(
            self.destination, now, self.retry_interval_ms, self.failure_ts
        )
        self._backoff_stored = True
        self._start_backoff(self.retry_interval_ms)


def _log_pdu_errors(destination: str, txn_id: str, response: Any) -> None:
    """spec: the response's ``pdus`` map holds an ``error`` for each PDU the destination
    refused. They are not retried: the destination judged them."""
    results = response.get("pdus") if isinstance(response, dict) else None
    if not isinstance(results, dict):
        return
    for event_id, result in results.items():
        if isinstance(result, dict) and result.get("error"):
            log.info(
                "federation destination refused an event",
                extra=fields(
                    destination=destination,
                    txn_id=txn_id,
                    event_id=event_id,
                    error=str(result["error"])[:500],
                ),
            )
