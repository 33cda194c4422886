"""Unread notification counts in /sync (spec: ``GET /sync`` "Unread Notification Counts").

A sync extension without a stream of its own: for every joined room in the response it
counts the notifying and highlighting push actions after the user's read position (read
receipt, or their own latest event). Evaluation runs after each commit, so it first waits
(briefly) for the evaluator to reach the response's position: a notifying event and its
count arrive together.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

from homeserver.storage import push_actions_store, receipts_store
from homeserver.storage.database import Txn
from homeserver.storage.store import Store

from .evaluator import PushEvaluator

if TYPE_CHECKING:
    from homeserver.sync.extensions import SyncContext
    from homeserver.sync.handler import SyncRequest, SyncResult
    from homeserver.sync.tokens import StreamToken

EVALUATION_WAIT_S = 2.0


def _counts(txn: Txn, user_id: str, room_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    upto = receipts_store.read_upto(txn, user_id, room_ids)
    return push_actions_store.unread_counts(txn, user_id, room_ids, upto)


class UnreadCounts:
    stream: str | None = None

    def __init__(self, store: Store, evaluator: PushEvaluator) -> None:
        self.store = store
        self.evaluator = evaluator

    def position(self) -> int:
        return 0

    def has_news(
        self, user_id: str, device_id: str, joined: AbstractSet[str], since: StreamToken
    ) -> bool:
        return False  # counts change with events and receipts, which wake syncs already

    async def fill(self, req: SyncRequest, ctx: SyncContext, result: SyncResult) -> None:
        rooms = sorted(result.rooms["join"])
        if not rooms:
            return
        await self.evaluator.wait_for(ctx.token.room_events, EVALUATION_WAIT_S)
        counts = await self.store.db.read(_counts, ctx.user_id, rooms)
        for room_id, (notify, highlight) in counts.items():
            result.rooms["join"][room_id]["unread_notifications"] = {
                "notification_count": notify,
                "highlight_count": highlight,
            }
