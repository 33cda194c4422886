"""Send-to-device messaging: ``PUT /sendToDevice`` and the ``to_device`` sync extension.

spec: client-server "Send-to-Device messaging". A message is stored for each target
device and delivered in ``to_device.events`` of that device's syncs until one of its
syncs comes back with a ``since`` at or past the message's position: that sync
acknowledges (deletes) it, so each message is delivered exactly once per device
(again only if the client never used the token that carried it). At most
``MAX_PER_SYNC`` messages go in one response; the token then stops after the last.

Kept cheap when nothing is waiting: memory holds, for each device with messages
waiting, the newest one's position (loaded at start, kept current by ``send``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

from homeserver.clock import Clock
from homeserver.errors import MatrixError, bad_json
from homeserver.logs import fields
from homeserver.protocol.ids import server_name_of
from homeserver.storage.store import Store

from .validation import check_user_id

if TYPE_CHECKING:
    from homeserver.sync.extensions import SyncContext
    from homeserver.sync.handler import SyncRequest, SyncResult
    from homeserver.sync.notifier import Notifier
    from homeserver.sync.tokens import StreamToken

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]

# spec: "100 messages is recommended as a reasonable limit".
MAX_PER_SYNC = 100
MAX_ID_LENGTH = 255

# ``(sender, sender_device, event_type, txn_id, messages for remote users)``: federation
# queues them for the users' servers (spec: server-server "Send-to-device messaging").
RemoteSink = Callable[[str, str, str, str, dict[str, dict[str, JsonDict]]], Awaitable[None]]


def parse_messages(body: Mapping[str, Any]) -> dict[str, dict[str, JsonDict]]:
    """spec: ``PUT /sendToDevice`` ``messages``: user -> device id (or ``*``) -> content."""
    messages = body.get("messages")
    if not isinstance(messages, dict):
        raise bad_json("`messages` must be an object")
    for user_id, by_device in messages.items():
        check_user_id(user_id)
        if not isinstance(by_device, dict):
            raise bad_json(f"`messages.{user_id}` must be an object")
        for device_id, content in by_device.items():
            if not isinstance(content, dict):
                raise bad_json(f"`messages.{user_id}.{device_id}` must be an object")
    return messages


class ToDeviceStream:
    """The ``to_device`` stream: a ``SyncExtension``."""

    stream: str | None = "to_device"

    def __init__(self, store: Store, notifier: Notifier, clock: Clock, server_name: str) -> None:
        self.store = store
        self.notifier = notifier
        self.clock = clock
        self.server_name = server_name
        self._position = 0
        # (user, device) -> position of its newest waiting message
        self._waiting: dict[tuple[str, str], int] = {}
        self._lock = asyncio.Lock()
        self.remote_sink: RemoteSink | None = None
        # Told the users who got messages stored (application services push them).
        self.listeners: list[Callable[[AbstractSet[str]], None]] = []

    async def start(self) -> None:
        self._position = await self.store.to_device.position()
        for user_id, device_id, newest in await self.store.to_device.pending_devices():
            self._waiting[(user_id, device_id)] = newest

    # -- producer -------------------------------------------------------------------

    async def send(
        self,
        sender: str,
        sender_device: str,
        event_type: str,
        txn_id: str,
        messages: dict[str, dict[str, JsonDict]],
    ) -> None:
        if len(txn_id) > MAX_ID_LENGTH or len(event_type) > MAX_ID_LENGTH:
            raise MatrixError(400, "M_INVALID_PARAM", "Event type or transaction id too long")
        local = {u: m for u, m in messages.items() if server_name_of(u) == self.server_name}
        # The local part records the transaction id: a retried one is not sent again.
        if not await self._deliver(sender, sender_device, txn_id, event_type, local):
            return
        if len(local) < len(messages):
            remote = {u: m for u, m in messages.items() if u not in local}
            if self.remote_sink is not None:
                await self.remote_sink(sender, sender_device, event_type, txn_id, remote)
            else:
                log.info(
                    "to-device messages for remote users dropped (no federation)",
                    extra=fields(users=sorted(remote)),
                )

    async def receive_remote(
        self,
        sender: str,
        message_id: str,
        event_type: str,
        messages: dict[str, dict[str, JsonDict]],
    ) -> None:
        """Messages from a remote ``sender`` for local users (``m.direct_to_device``); a
        ``message_id`` seen before from the same sender is not delivered again."""
        await self._deliver(sender, "", message_id, event_type, messages)

    async def _deliver(
        self,
        sender: str,
        sender_device: str,
        txn_id: str,
        event_type: str,
        local: dict[str, dict[str, JsonDict]],
    ) -> bool:
        """Store ``local``'s messages; False when ``txn_id`` was seen before."""
        # One at a time, publishing in commit order: a token never covers a message
        # that memory does not know is waiting.
        async with self._lock:
            delivered = await self.store.to_device.send(
                sender, sender_device, txn_id, event_type, local, self.clock.time_ms()
            )
            if delivered is None:
                return False  # a retried transaction
            if not delivered:
                return True  # no such devices
            users = set()
            for item in delivered:
                key = (item.user_id, item.device_id)
                self._waiting[key] = max(self._waiting.get(key, 0), item.stream_id)
                self._position = max(self._position, item.stream_id)
                users.add(item.user_id)
        self.notifier.on_stream(users=users)
        for listener in self.listeners:
            listener(users)
        return True

    def forget_devices(self, user_id: str, device_ids: list[str]) -> None:
        """The devices are gone (their messages were deleted with them)."""
        for device_id in device_ids:
            self._waiting.pop((user_id, device_id), None)

    # -- SyncExtension --------------------------------------------------------------

    def position(self) -> int:
        return self._position

    def has_news(
        self, user_id: str, device_id: str, joined: AbstractSet[str], since: StreamToken
    ) -> bool:
        return self._waiting.get((user_id, device_id), 0) > since.to_device

    async def fill(self, req: SyncRequest, ctx: SyncContext, result: SyncResult) -> None:
        key = (ctx.user_id, ctx.device_id)
        newest = self._waiting.get(key)
        if newest is None:
            return
        # spec: the client syncing with a token acknowledges the messages it carried.
        acked = None if ctx.since is None else ctx.since.to_device
        upto = ctx.token.to_device
        if acked is not None and newest <= acked:
            await self.store.to_device.take(ctx.user_id, ctx.device_id, acked, upto, 0)
            if self._waiting.get(key) == newest:
                del self._waiting[key]  # all delivered and acknowledged
            return
        messages = await self.store.to_device.take(
            ctx.user_id, ctx.device_id, acked, upto, MAX_PER_SYNC
        )
        result.to_device = [message for _, message in messages]
        if len(messages) == MAX_PER_SYNC:
            # More are waiting: the next sync starts after the last one sent.
            result.next_batch = result.next_batch.advance(to_device=messages[-1][0])
