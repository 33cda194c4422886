"""Receipts and read markers (spec: client-server "Receipts", "Fully read markers").

``m.read`` receipts are shared with the room, ``m.read.private`` ones only with their
owner; both may be threaded (``thread_id``: "main" or a thread root). ``m.fully_read`` is
not a receipt but the room account data the read-marker API writes. The receipts stream
is a sync extension: each joined room whose receipts changed gets an ``m.receipt``
ephemeral event with the changes.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

from homeserver.clock import Clock
from homeserver.errors import MatrixError
from homeserver.storage.receipts_store import UNTHREADED, Receipt
from homeserver.storage.store import Store

if TYPE_CHECKING:
    from homeserver.sync.account_data import AccountDataHandler
    from homeserver.sync.extensions import SyncContext
    from homeserver.sync.handler import SyncRequest, SyncResult
    from homeserver.sync.notifier import Notifier
    from homeserver.sync.tokens import StreamToken

READ = "m.read"
READ_PRIVATE = "m.read.private"
FULLY_READ = "m.fully_read"
RECEIPT_TYPES = (READ, READ_PRIVATE, FULLY_READ)

# Told of each receipt a local user moved forward (all types, private ones too).
ReceiptListener = Callable[[Receipt], None]


def check_thread_id(thread_id: object) -> str:
    """spec: a receipt's ``thread_id`` is "main" or the event id of a thread root."""
    if thread_id is None:
        return UNTHREADED
    if not isinstance(thread_id, str) or not (thread_id == "main" or thread_id.startswith("$")):
        raise MatrixError(400, "M_INVALID_PARAM", '`thread_id` must be "main" or an event id')
    return thread_id


def receipt_content(receipts: list[Receipt], viewer: str) -> dict[str, Any]:
    """The ``m.receipt`` content for ``receipts`` as ``viewer`` may see them."""
    content: dict[str, Any] = {}
    for r in receipts:
        if r.receipt_type == READ_PRIVATE and r.user_id != viewer:
            continue
        entry: dict[str, Any] = {"ts": r.ts}
        if r.thread_id:
            entry["thread_id"] = r.thread_id
        content.setdefault(r.event_id, {}).setdefault(r.receipt_type, {})[r.user_id] = entry
    return content


class ReceiptsHandler:
    """The receipts stream: writes, and the sync extension that reads them back."""

    stream: str | None = "receipts"

    def __init__(
        self, store: Store, notifier: Notifier, account_data: AccountDataHandler, clock: Clock
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.account_data = account_data
        self.clock = clock
        self._position = 0
        self._started_at = 0  # what came before is not in _changed_at
        self._changed_at: dict[str, int] = {}  # room -> stream position of its last receipt
        # Told of every receipt a local user set (federation forwards the public ones).
        self.listeners: list[ReceiptListener] = []

    async def start(self) -> None:
        self._position = self._started_at = await self.store.receipts.max_stream_id()

    def _maybe_changed(self, room_id: str, after: int) -> bool:
        at = self._changed_at.get(room_id)
        return at > after if at is not None else after < self._started_at

    async def set_receipt(
        self, user_id: str, room_id: str, receipt_type: str, event_id: str, thread_id: str
    ) -> None:
        """``POST /receipt``: the caller has checked the user is in the room."""
        if receipt_type not in RECEIPT_TYPES:
            raise MatrixError(400, "M_INVALID_PARAM", f"Unknown receipt type {receipt_type!r}")
        position = await self.store.receipts.event_position(room_id, event_id)
        if position is None:
            raise MatrixError(404, "M_NOT_FOUND", "No such event in this room")
        if receipt_type == FULLY_READ:
            if thread_id:
                raise MatrixError(400, "M_INVALID_PARAM", "m.fully_read cannot be threaded")
            await self.account_data.write(user_id, room_id, FULLY_READ, {"event_id": event_id})
            return
        ts = self.clock.time_ms()
        stream_id = await self.store.receipts.put(
            room_id, receipt_type, user_id, thread_id, event_id, position, ts
        )
        if stream_id is None:
            return  # not newer than the receipt the user has
        self._announce(room_id, user_id, receipt_type, stream_id)
        receipt = Receipt(room_id, receipt_type, user_id, thread_id, event_id, ts, stream_id)
        for listener in self.listeners:
            listener(receipt)

    async def apply_remote(
        self, room_id: str, user_id: str, event_id: str, thread_id: str, ts: int
    ) -> bool:
        """A remote user's ``m.read`` receipt (spec: server-server "Receipts"); the caller
        checked the user's server sent it and the user is in the room. False when the
        event is not one we have."""
        position = await self.store.receipts.event_position(room_id, event_id)
        if position is None:
            return False
        stream_id = await self.store.receipts.put(
            room_id, READ, user_id, thread_id, event_id, position, ts
        )
        if stream_id is not None:
            self._announce(room_id, user_id, READ, stream_id)
        return True

    def _announce(self, room_id: str, user_id: str, receipt_type: str, stream_id: int) -> None:
        self._position = max(self._position, stream_id)
        self._changed_at[room_id] = stream_id
        if receipt_type == READ_PRIVATE:
            self.notifier.on_stream(users=(user_id,))
        else:
            self.notifier.on_stream(rooms=(room_id,))

    # -- SyncExtension --------------------------------------------------------------

    def position(self) -> int:
        return self._position

    def has_news(
        self, user_id: str, device_id: str, joined: AbstractSet[str], since: StreamToken
    ) -> bool:
        after = since.receipts
        if after >= self._position:
            return False
        if after < self._started_at:
            return True  # older than what memory holds: may have changed
        if len(joined) < len(self._changed_at):
            return any(self._changed_at.get(r, 0) > after for r in joined)
        return any(at > after and r in joined for r, at in self._changed_at.items())

    async def fill(self, req: SyncRequest, ctx: SyncContext, result: SyncResult) -> None:
        room_filter = req.filter.room
        rooms = [
            r
            for r in ctx.joined
            if room_filter.allows_room(r) and room_filter.ephemeral.matches("m.receipt", room_id=r)
        ]
        if not rooms:
            return
        initial = ctx.since is None or ctx.full_state
        after = 0 if ctx.since is None or initial else ctx.since.receipts
        if not initial:
            rooms = [r for r in rooms if self._maybe_changed(r, after)]
            if not rooms or after >= ctx.token.receipts:
                return
        found = await self.store.receipts.in_rooms(sorted(rooms), after, ctx.token.receipts)
        by_room: dict[str, list[Receipt]] = {}
        for receipt in found:
            by_room.setdefault(receipt.room_id, []).append(receipt)
        for room_id, receipts in sorted(by_room.items()):
            content = receipt_content(receipts, ctx.user_id)
            if content:
                event = {"type": "m.receipt", "content": content}
                result.joined_room(room_id)["ephemeral"]["events"].append(event)
