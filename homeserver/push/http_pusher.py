"""One HTTP pusher: delivers its user's notifications to a push gateway, in order.

spec: push-gateway "Homeserver behaviour" (retry with exponential backoff while the
gateway fails; ``event_id_only`` sends only the event id, room id, counts and
devices), ``POST /_matrix/push/v1/notify`` (the request; ``rejected`` pushkeys: the
homeserver removes their pushers) and client-server ``POST /pushers/set`` (``data`` is
forwarded without ``url``).

The pusher's position (the stream ordering of the last notification handled) is stored
after each one, so a restart resumes there. A pusher runs as a task only while it has
notifications to send; new ones poke it.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeserver.logs import fields
from homeserver.protocol.events import Event
from homeserver.protocol.push_eval import tweaks
from homeserver.storage.push_actions_store import NotificationRow
from homeserver.storage.pushers_store import PusherRow

from .gateway import GatewayError

if TYPE_CHECKING:
    from .pushers import PusherPool

log = logging.getLogger(__name__)

PAGE = 20


@dataclass(frozen=True, slots=True)
class PushSettings:
    initial_backoff_s: float = 1.0
    max_backoff_s: float = 3600.0
    # After failing this long on one notification, the pusher skips it and goes on.
    give_up_after_s: float = 24 * 3600.0
    request_timeout_s: float = 15.0


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    SKIPPED = "skipped"  # failed for longer than give_up_after_s
    REJECTED = "rejected"  # the gateway rejected the pushkey: the pusher is removed
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class RoomContext:
    room_name: str | None
    room_alias: str | None
    sender_display_name: str | None


def notification_body(
    pusher: PusherRow,
    event: Event,
    actions: list[Any],
    unread: int,
    room: RoomContext,
) -> dict[str, Any]:
    """The ``notification`` object of a ``/notify`` request."""
    data = {k: v for k, v in pusher.data.items() if k != "url"}
    tweak_values = tweaks(actions)
    device = {
        "app_id": pusher.app_id,
        "pushkey": pusher.pushkey,
        "pushkey_ts": pusher.pushkey_ts // 1000,  # seconds
        "data": data,
        "tweaks": tweak_values,
    }
    high = (
        event.type == "m.room.encrypted"
        or bool(tweak_values.get("highlight"))
        or bool(tweak_values.get("sound"))
    )
    body: dict[str, Any] = {
        "event_id": event.event_id,
        "room_id": event.room_id,
        "prio": "high" if high else "low",
        "counts": {"unread": unread} if unread else {},  # zero counts are omitted
        "devices": [device],
    }
    if data.get("format") == "event_id_only":
        return body
    body["type"] = event.type
    body["sender"] = event.sender
    if room.sender_display_name is not None:
        body["sender_display_name"] = room.sender_display_name
    if room.room_name is not None:
        body["room_name"] = room.room_name
    if room.room_alias is not None:
        body["room_alias"] = room.room_alias
    if event.type == "m.room.member" and event.state_key is not None:
        body["user_is_target"] = event.state_key == pusher.user_id
    if event.content:
        body["content"] = event.content
    return body


class HttpPusher:
    def __init__(self, pool: PusherPool, row: PusherRow) -> None:
        self.pool = pool
        self.row = row
        self.position = row.last_stream_ordering
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._stopped = False
        self.failures = 0  # consecutive failed attempts (for tests and logs)

    @property
    def key(self) -> tuple[str, str]:
        return (self.row.app_id, self.row.pushkey)

    def update(self, row: PusherRow) -> None:
        """New settings from ``/pushers/set`` (the position stays)."""
        self.row = row

    def poke(self) -> None:
        """There may be new notifications."""
        if self._stopped:
            return
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._drain())

    async def stop(self) -> None:
        self._stopped = True
        task, self._task = self._task, None
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _drain(self) -> None:
        try:
            await self._drain_pages()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("pusher failed", extra=fields(user_id=self.row.user_id))

    async def _drain_pages(self) -> None:
        store = self.pool.store
        while not self._stopped:
            self._again = False
            page = await store.push.notifications_after(self.row.user_id, self.position, PAGE)
            if not page:
                if self._again:
                    continue
                return
            for notification in page:
                outcome = await self._deliver(notification)
                if outcome is Outcome.STOPPED:
                    return
                if outcome is Outcome.REJECTED:
                    await self.pool.remove(self, reason="rejected by the gateway")
                    return
                self.position = notification.stream_ordering
                await store.push.set_pusher_position(
                    self.row.user_id, self.row.app_id, self.row.pushkey, self.position
                )

    async def _deliver(self, notification: NotificationRow) -> Outcome:
        settings = self.pool.settings
        body = await self._body(notification)
        if body is None:
            return Outcome.SKIPPED  # the event is gone
        backoff = settings.initial_backoff_s
        failing_since: float | None = None
        while not self._stopped:
            try:
                rejected = await self.pool.gateway.notify(self.row.data["url"], body)
            except GatewayError as exc:
                self.failures += 1
                now = self.pool.clock.monotonic()
                if failing_since is None:
                    failing_since = now
                elif now - failing_since >= settings.give_up_after_s:
                    log.warning(
                        "push gateway failing too long; skipping a notification",
                        extra=fields(event_id=notification.event_id, error=str(exc)),
                    )
                    return Outcome.SKIPPED
                log.info(
                    "push gateway failed; retrying",
                    extra=fields(url=self.row.data["url"], error=str(exc), backoff_s=backoff),
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, settings.max_backoff_s)
                continue
            self.failures = 0
            if self.row.pushkey in rejected:
                return Outcome.REJECTED
            return Outcome.DELIVERED
        return Outcome.STOPPED

    async def _body(self, notification: NotificationRow) -> dict[str, Any] | None:
        pool = self.pool
        stored = await pool.store.events.get_event(notification.event_id)
        if stored is None:
            return None
        event = stored.event
        unread = await pool.unread_total(self.row.user_id)
        room = await room_context(pool.room_state.state_events, event)
        body = notification_body(self.row, event, notification.actions, unread, room)
        return {"notification": body}


StateLookup = Callable[[str, list[tuple[str, str]]], Awaitable[Mapping[tuple[str, str], Event]]]


async def room_context(state_events: StateLookup, event: Event) -> RoomContext:
    """The room's name, canonical alias and the sender's display name, from current
    state (spec: push-gateway ``room_name``, ``room_alias``, ``sender_display_name``)."""
    keys = [("m.room.name", ""), ("m.room.canonical_alias", ""), ("m.room.member", event.sender)]
    found = await state_events(event.room_id, keys)

    def text(key: tuple[str, str], field: str) -> str | None:
        state = found.get(key)
        value = state.content.get(field) if state is not None else None
        return value if isinstance(value, str) and value else None

    return RoomContext(
        room_name=text(("m.room.name", ""), "name"),
        room_alias=text(("m.room.canonical_alias", ""), "alias"),
        sender_display_name=text(("m.room.member", event.sender), "displayname"),
    )
