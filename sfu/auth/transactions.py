"""What the homeserver pushes to the SFU as an application service.

spec: application-service API "Pushing events" (``PUT /_matrix/app/v1/transactions/
{txnId}``, authorised by the ``hs_token``; a transaction may be retried with the same id
and must then not be processed twice). The SFU cares about membership only:

- an invite of its bot: the bot joins, so the room can be a voice channel;
- a participant who leaves, is kicked or banned: ``remove_user`` drops their media at once
  (the next ``check_member`` would refuse them anyway, but the media would flow until
  then);
- its bot leaving or being removed: everyone in that room's call is dropped (the SFU can
  no longer check them nor publish their presence).

Events are handled in order by one worker, after the transaction is acknowledged: a join
over federation can outlast the pusher's request timeout.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from sfu.access import AccessDenied

from .homeserver import HomeserverClient, HomeserverError
from .roster import CallMembers

log = logging.getLogger("sfu.transactions")

RemoveUser = Callable[[str, str, str], Awaitable[None] | None]
# Transaction ids remembered for de-duplication (the pusher retries only the latest).
REMEMBERED = 1024
QUEUE_LIMIT = 10_000


def check_hs_token(authorization: str | None, query_token: str | None, hs_token: str) -> None:
    """spec: application-service API "Authorization": ``Authorization: Bearer`` (or the
    deprecated ``access_token`` query parameter)."""
    given = query_token
    if authorization is not None:
        scheme, _, value = authorization.partition(" ")
        given = value.strip() if scheme.lower() == "bearer" else None
    if not given:
        raise AccessDenied(401, "M_UNAUTHORIZED", "Missing the homeserver token")
    if given != hs_token:
        raise AccessDenied(403, "M_FORBIDDEN", "Wrong homeserver token")


class Transactions:
    def __init__(
        self,
        homeserver: HomeserverClient,
        roster: CallMembers,
        bot_user_id: str,
        remove_user: RemoveUser,
    ) -> None:
        self.homeserver = homeserver
        self.roster = roster
        self.bot_user_id = bot_user_id
        self.remove_user = remove_user
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        self._worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._worker = asyncio.create_task(self._work())

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None

    def receive(self, txn_id: str, body: Any) -> None:
        """Queues the transaction's events unless ``txn_id`` was seen already."""
        if not isinstance(body, dict) or not isinstance(body.get("events", []), list):
            raise AccessDenied(400, "M_BAD_JSON", "A transaction is an object with `events`")
        if txn_id in self._seen:
            return
        self._seen[txn_id] = None
        while len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)
        for event in body.get("events", []):
            if isinstance(event, dict) and event.get("type") == "m.room.member":
                try:
                    self._queue.put_nowait(event)
                except asyncio.QueueFull:
                    log.error("membership queue full; dropped event=%s", event.get("event_id"))

    async def idle(self) -> None:
        """Until every queued event is handled (tests, shutdown)."""
        await self._queue.join()

    async def _work(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self.handle(event)
            except Exception:
                log.exception("membership event failed event=%s", event.get("event_id"))
            finally:
                self._queue.task_done()

    async def handle(self, event: dict[str, Any]) -> None:
        room_id, target = event.get("room_id"), event.get("state_key")
        content = event.get("content")
        if not isinstance(room_id, str) or not isinstance(target, str):
            return
        membership = content.get("membership") if isinstance(content, dict) else None
        if target == self.bot_user_id:
            await self._bot_membership(room_id, membership)
        elif membership in ("leave", "ban"):
            if membership == "ban":
                reason = "banned"
            else:
                reason = "left" if event.get("sender") == target else "kicked"
            await self._remove(room_id, target, reason)

    async def _bot_membership(self, room_id: str, membership: Any) -> None:
        if membership == "invite":
            try:
                await self.homeserver.join(room_id)
                log.info("joined voice room room=%s", room_id)
            except HomeserverError as exc:
                log.warning("could not join room=%s error=%s", room_id, exc)
        elif membership in ("leave", "ban"):
            for user_id in sorted(self.roster.participants(room_id)):
                await self._remove(room_id, user_id, "the voice server was removed from the room")

    async def _remove(self, room_id: str, user_id: str, reason: str) -> None:
        result = self.remove_user(room_id, user_id, reason)
        if inspect.isawaitable(result):
            await result
