"""Unread notification counts in /sync (spec: ``GET /sync`` "Unread Notification Counts").

A sync extension without a stream of its own: for every joined room in the response it
counts the notifying and highlighting push actions after the user's read position (read
receipt, or their own latest event). Evaluation runs after each commit, so it first waits
(briefly) for the evaluator to reach the response's position: a notifying event and its
count arrive together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


PRELOAD = "unread_counts"


def _counts(txn: Txn, user_id: str, room_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    upto = receipts_store.read_upto(txn, user_id, room_ids)
    return push_actions_store.unread_counts(txn, user_id, room_ids, upto)


class UnreadCounts:
    stream: str | None = None

    def __init__(
        self, store: Store, evaluator: PushEvaluator, persisted_upto: Callable[[], int]
    ) -> None:
        self.store = store
        self.evaluator = evaluator
        self.persisted_upto = persisted_upto

    async def before_sync(self, req: SyncRequest) -> None:
        """``SyncHandler.request_hooks``: everything stored so far is evaluated, so the
        counts read with the rooms (``room_load_hooks``) are current."""
        await self.evaluator.wait_for(self.persisted_upto(), EVALUATION_WAIT_S)

    @staticmethod
    def with_rooms(txn: Txn, user_id: str, room_ids: list[str]) -> dict[str, tuple[int, int]]:
        """``SyncHandler.room_load_hooks``: the loaded joined rooms' counts."""
        return _counts(txn, user_id, room_ids) if room_ids else {}

    def position(self) -> int:
        return 0

    def has_news(
        self, user_id: str, device_id: str, joined: AbstractSet[str], since: StreamToken
    ) -> bool:
        return False  # counts change with events and receipts, which wake syncs already

    async def fill(self, req: SyncRequest, ctx: SyncContext, result: SyncResult) -> None:
        counts: dict[str, tuple[int, int]] = dict(result.preloaded.get(PRELOAD, {}))
        # Rooms in the response that were not loaded (e.g. only a receipt moved).
        missing = sorted(r for r in result.rooms["join"] if r not in counts)
        if missing:
            counts.update(await self.store.db.read(_counts, ctx.user_id, missing))
        for room_id, (notify, highlight) in counts.items():
            if room_id not in result.rooms["join"]:
                continue  # loaded, but all its news was filtered out
            result.rooms["join"][room_id]["unread_notifications"] = {
                "notification_count": notify,
                "highlight_count": highlight,
            }
