"""Read receipts over federation (spec: server-server "Receipts").

Out: a local user's public ``m.read`` receipt (never ``m.read.private``, never the
``m.fully_read`` marker) becomes an ``m.receipt`` EDU for the other servers in the room.
In: each receipt of a user of the sending server who is joined to the room is stored
like a local one, so local members see it in ``/sync``; a receipt for an event we do
not have is dropped. Receipts not in the EDU are left alone.
"""

from __future__ import annotations

import logging
from typing import Any

from homeserver.ephemeral.receipts import READ, ReceiptsHandler
from homeserver.logs import fields
from homeserver.rooms.room_state import RoomStateCache
from homeserver.storage.receipts_store import Receipt

from .edus import BadEdu, EduRegistry
from .sender.sender import FederationSender, domain_of
from .typing_edus import is_joined

log = logging.getLogger(__name__)

EDU_TYPE = "m.receipt"


class ReceiptFederation:
    def __init__(
        self,
        sender: FederationSender,
        receipts: ReceiptsHandler,
        rooms: RoomStateCache,
        server_name: str,
    ) -> None:
        self.sender = sender
        self.receipts = receipts
        self.rooms = rooms
        self.server_name = server_name

    def register(self, registry: EduRegistry) -> None:
        self.receipts.listeners.append(self.on_local_receipt)
        registry.register(EDU_TYPE, self.on_edu)

    def on_local_receipt(self, receipt: Receipt) -> None:
        if receipt.receipt_type != READ or domain_of(receipt.user_id) != self.server_name:
            return
        data: dict[str, Any] = {"ts": receipt.ts}
        if receipt.thread_id:
            data["thread_id"] = receipt.thread_id
        entry = {"event_ids": [receipt.event_id], "data": data}
        content = {receipt.room_id: {READ: {receipt.user_id: entry}}}
        key = (receipt.room_id, receipt.user_id, receipt.thread_id)
        self.sender.send_edu_to_rooms([receipt.room_id], EDU_TYPE, content, key=key)

    async def on_edu(self, origin: str, content: dict[str, Any]) -> None:
        for room_id, by_type in content.items():
            if not isinstance(by_type, dict):
                raise BadEdu(f"receipts of {room_id} must be an object")
            by_user = by_type.get(READ)
            if by_user is None:
                continue  # other receipt types are not ours to store
            if not isinstance(by_user, dict):
                raise BadEdu(f"`{room_id}.m.read` must be an object")
            for user_id, entry in by_user.items():
                try:
                    await self._apply(origin, room_id, user_id, entry)
                except BadEdu as exc:
                    # One bad receipt does not cost the others.
                    log.info(
                        "receipt dropped",
                        extra=fields(origin=origin, room_id=room_id, reason=str(exc)[:300]),
                    )

    async def _apply(self, origin: str, room_id: str, user_id: str, entry: object) -> None:
        if domain_of(user_id) != origin:
            raise BadEdu(f"{user_id} is not a user of {origin}")
        if not isinstance(entry, dict):
            raise BadEdu("a receipt must be an object")
        event_ids = entry.get("event_ids")
        data = entry.get("data")
        if (
            not isinstance(event_ids, list)
            or not event_ids
            or not all(isinstance(e, str) and e.startswith("$") for e in event_ids)
        ):
            raise BadEdu("`event_ids` must be a non-empty list of event ids")
        if not isinstance(data, dict):
            raise BadEdu("`data` must be an object")
        ts = data.get("ts")
        if not isinstance(ts, int) or isinstance(ts, bool):
            raise BadEdu("`data.ts` must be an integer")
        thread_id = data.get("thread_id", "")
        if not isinstance(thread_id, str) or not (
            thread_id in ("", "main") or thread_id.startswith("$")
        ):
            raise BadEdu('`thread_id` must be "main" or an event id')
        if not await is_joined(self.rooms, room_id, user_id):
            raise BadEdu(f"{user_id} is not joined to {room_id}")
        for event_id in event_ids:
            if not await self.receipts.apply_remote(room_id, user_id, event_id, thread_id, ts):
                raise BadEdu(f"unknown event {event_id} in {room_id}")
