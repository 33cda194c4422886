"""``GET /notifications``: the events a user was notified about, newest first.

spec: client-server "Listing Notifications". ``from`` is the ``next_token`` of the
previous page (a stream ordering: the page holds older notifications); ``only=highlight``
keeps those with the highlight tweak. ``read`` is whether the user's read receipt is at
or after the event; without receipts (``receipts`` None) it is false.
"""

from __future__ import annotations

from typing import Any

from homeserver.errors import MatrixError
from homeserver.rooms.events_view import EventRenderer, Viewer
from homeserver.storage.store import Store

from .pushers import ReceiptPositions

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def parse_from(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        position = int(value)
    except ValueError:
        raise MatrixError(400, "M_INVALID_PARAM", "Invalid `from` token") from None
    if position < 0:
        raise MatrixError(400, "M_INVALID_PARAM", "Invalid `from` token")
    return position


def parse_limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError:
        raise MatrixError(400, "M_INVALID_PARAM", "`limit` must be an integer") from None
    if limit < 1:
        raise MatrixError(400, "M_INVALID_PARAM", "`limit` must be positive")
    return min(limit, MAX_LIMIT)


class NotificationsHandler:
    def __init__(
        self, store: Store, renderer: EventRenderer, receipts: ReceiptPositions | None = None
    ) -> None:
        self.store = store
        self.renderer = renderer
        self.receipts = receipts

    async def list(
        self, user_id: str, before: int | None, limit: int, only: str | None
    ) -> dict[str, Any]:
        rows = await self.store.push.notifications(user_id, before, limit, only == "highlight")
        stored = await self.store.events.get_events([r.event_id for r in rows])
        present = [r for r in rows if r.event_id in stored]
        rendered = await self.renderer.render(
            [stored[r.event_id] for r in present], Viewer(user_id)
        )
        room_ids = sorted({r.room_id for r in present})
        read_upto = await self.receipts(user_id, room_ids) if self.receipts and room_ids else {}
        notifications = [
            {
                "actions": row.actions,
                "event": event,
                "read": row.stream_ordering <= read_upto.get(row.room_id, 0),
                "room_id": row.room_id,
                "ts": row.ts,
            }
            for row, event in zip(present, rendered, strict=True)
        ]
        body: dict[str, Any] = {"notifications": notifications}
        if len(rows) == limit:
            body["next_token"] = str(rows[-1].stream_ordering)
        return body
