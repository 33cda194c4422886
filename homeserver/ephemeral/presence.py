"""Presence (spec: client-server "Presence"; ``busy`` from MSC3026, advertised in
``/versions`` as ``org.matrix.msc3026.busy_presence``).

A user *chooses* a state with ``PUT /presence/{userId}/status``: online, unavailable,
busy or offline. Choosing offline while connected is Concord's "invisible". Others see
the *published* state:
- ``offline`` if the user chose it, or has not synced for ``DISCONNECTED_AFTER_MS``;
- ``unavailable`` if they chose ``online`` but did nothing for ``IDLE_AFTER_MS``;
- otherwise what they chose.

Activity (sending an event, setting presence) and syncing are tracked in memory. A
change of the published state, status message or ``currently_active`` is written at
the next presence stream position, and the long-polls of everyone sharing a room with
the user are woken. Presence in /sync goes only to users who share a room (and to the
user themself).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeserver.clock import Clock
from homeserver.errors import MatrixError
from homeserver.rooms.bus import PersistedEvent
from homeserver.storage.presence_store import PresenceRow
from homeserver.storage.store import Store

if TYPE_CHECKING:
    from homeserver.sync.extensions import SyncContext
    from homeserver.sync.handler import SyncRequest, SyncResult
    from homeserver.sync.notifier import Notifier
    from homeserver.sync.tokens import StreamToken

log = logging.getLogger(__name__)

STATES = ("online", "unavailable", "offline", "busy")
IDLE_AFTER_MS = 5 * 60_000
DISCONNECTED_AFTER_MS = 60_000  # a long-poll lasts up to 30 s: two missed polls
ACTIVE_WINDOW_MS = 60_000  # `currently_active` while active within this
TICK_S = 15.0
MAX_STATUS_MSG = 1024

# ``(user_id, content as rendered for others, the user's joined rooms)`` after a local
# user's published presence changed.
PresenceListener = Callable[[str, dict[str, Any], Collection[str]], None]


@dataclass
class _Live:
    """What memory knows of a user beyond their row."""

    chosen: str = "online"
    status_msg: str | None = None
    last_active_ms: int = 0
    last_sync_ms: int = 0
    published: str = "offline"
    currently_active: bool = False


def published_state(live: _Live, now: int) -> tuple[str, bool]:
    """The state others see and ``currently_active``, from what the user chose and did."""
    if live.chosen == "offline" or now - live.last_sync_ms > DISCONNECTED_AFTER_MS:
        return "offline", False
    if live.chosen == "online" and now - live.last_active_ms > IDLE_AFTER_MS:
        return "unavailable", False
    active = live.chosen == "online" and now - live.last_active_ms <= ACTIVE_WINDOW_MS
    return live.chosen, active


class PresenceHandler:
    stream: str | None = "presence"

    def __init__(self, store: Store, notifier: Notifier, clock: Clock, server_name: str) -> None:
        self.store = store
        self.notifier = notifier
        self.clock = clock
        self.server_name = server_name
        self._live: dict[str, _Live] = {}
        self._position = 0
        self._started_at = 0
        self._changed_user: dict[str, int] = {}
        self._changed_room: dict[str, int] = {}
        self._ticker: asyncio.Task[None] | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        # Told of each change of a local user's presence (federation forwards them).
        self.listeners: list[PresenceListener] = []

    async def start(self) -> None:
        self._position = self._started_at = await self.store.presence.max_stream_id()
        self._ticker = asyncio.get_running_loop().create_task(self._tick_forever())

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker

    async def _load(self, user_id: str) -> _Live:
        live = self._live.get(user_id)
        if live is None:
            row = await self.store.presence.get(user_id)
            live = _Live()
            if row is not None:
                live.chosen, live.status_msg = row.chosen, row.status_msg
                live.last_active_ms = row.last_active_ts
                live.published, live.currently_active = row.published, row.currently_active
            live = self._live.setdefault(user_id, live)
        return live

    # -- producers ------------------------------------------------------------------

    async def set_chosen(self, user_id: str, state: str, status_msg: str | None) -> None:
        """``PUT /presence/{userId}/status``."""
        if state not in STATES:
            raise MatrixError(400, "M_INVALID_PARAM", f"Unknown presence state {state!r}")
        if status_msg is not None and len(status_msg) > MAX_STATUS_MSG:
            raise MatrixError(400, "M_INVALID_PARAM", "`status_msg` is too long")
        live = await self._load(user_id)
        live.chosen, live.status_msg = state, status_msg
        now = self.clock.time_ms()
        live.last_sync_ms = max(live.last_sync_ms, now)  # setting it means being here
        if state == "online":
            live.last_active_ms = now
        await self._publish(user_id, force=True)

    async def on_sync(self, user_id: str, set_presence: str) -> None:
        """A sync request (``set_presence``: online, unavailable or offline)."""
        if set_presence == "offline":
            return  # spec: the client does not want to be marked online by this sync
        live = await self._load(user_id)
        now = self.clock.time_ms()
        if now - live.last_sync_ms > DISCONNECTED_AFTER_MS and set_presence == "online":
            live.last_active_ms = now  # coming online is activity
        live.last_sync_ms = now
        await self._publish(user_id)

    def on_event(self, item: PersistedEvent) -> None:
        """Bus subscriber: a local user sending an event is active."""
        sender = item.event.sender
        if not sender.endswith(":" + self.server_name):
            return
        live = self._live.get(sender)
        if live is None:
            return  # never synced here: nothing to refresh
        live.last_active_ms = self.clock.time_ms()
        if published_state(live, live.last_active_ms) != (live.published, live.currently_active):
            asyncio.get_running_loop().create_task(self._publish(sender))

    async def tick(self) -> None:
        """Publish the transitions time alone causes (idle, disconnected)."""
        now = self.clock.time_ms()
        for user_id, live in list(self._live.items()):
            if published_state(live, now) != (live.published, live.currently_active):
                await self._publish(user_id)

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            try:
                await self.tick()
            except Exception:
                log.exception("presence tick failed")

    async def _publish(self, user_id: str, *, force: bool = False) -> None:
        lock = self._locks.setdefault(user_id, asyncio.Lock())
        async with lock:
            live = await self._load(user_id)
            state, active = published_state(live, self.clock.time_ms())
            if not force and (state, active) == (live.published, live.currently_active):
                return
            live.published, live.currently_active = state, active
            stream_id = await self.store.presence.put(
                user_id, live.chosen, live.status_msg, live.last_active_ms, state, active
            )
        rooms = (await self.notifier.memberships.get(user_id)).joined
        self._announce(user_id, stream_id, rooms)
        if self.listeners:
            content = self.render(live, self.clock.time_ms())
            for listener in self.listeners:
                listener(user_id, content, rooms)

    async def apply_remote(
        self,
        user_id: str,
        presence: str,
        status_msg: str | None,
        last_active_ago: int,
        currently_active: bool,
        rooms: Collection[str],
    ) -> None:
        """A remote user's presence (spec: server-server "Presence"), shown to local
        users sharing one of ``rooms`` (the rooms the user is joined to)."""
        last_active = self.clock.time_ms() - max(0, last_active_ago)
        stream_id = await self.store.presence.put(
            user_id, presence, status_msg, last_active, presence, currently_active
        )
        self._announce(user_id, stream_id, rooms)

    def _announce(self, user_id: str, stream_id: int, rooms: Collection[str]) -> None:
        self._position = max(self._position, stream_id)
        self._changed_user[user_id] = stream_id
        for room_id in rooms:
            self._changed_room[room_id] = stream_id
        self.notifier.on_stream(users=(user_id,), rooms=rooms)

    # -- reads ----------------------------------------------------------------------

    def render(self, row: PresenceRow | _Live, now: int) -> dict[str, Any]:
        content: dict[str, Any] = {
            "presence": row.published,
            "last_active_ago": max(0, now - _last_active(row)),
        }
        if row.status_msg is not None:
            content["status_msg"] = row.status_msg
        if row.published == "online":
            content["currently_active"] = row.currently_active
        return content

    async def status(self, user_id: str) -> dict[str, Any]:
        """``GET /presence/{userId}/status`` (the caller checked the viewer may see it)."""
        live = self._live.get(user_id)
        if live is not None:
            return self.render(live, self.clock.time_ms())
        row = await self.store.presence.get(user_id)
        if row is None:
            return {"presence": "offline"}
        return self.render(row, self.clock.time_ms())

    async def shares_room(self, viewer: str, user_id: str) -> bool:
        if viewer == user_id:
            return True
        joined = (await self.notifier.memberships.get(viewer)).joined
        return user_id in await self.store.presence.users_sharing_rooms(sorted(joined))

    # -- SyncExtension --------------------------------------------------------------

    def position(self) -> int:
        return self._position

    def has_news(
        self, user_id: str, device_id: str, joined: AbstractSet[str], since: StreamToken
    ) -> bool:
        after = since.presence
        if after >= self._position:
            return False
        if after < self._started_at or self._changed_user.get(user_id, 0) > after:
            return True
        if len(joined) < len(self._changed_room):
            return any(self._changed_room.get(r, 0) > after for r in joined)
        return any(at > after and r in joined for r, at in self._changed_room.items())

    async def on_sync_request(self, req: SyncRequest) -> None:
        """``SyncHandler.request_hooks``: the user syncing is here."""
        await self.on_sync(req.user_id, req.set_presence)

    async def fill(self, req: SyncRequest, ctx: SyncContext, result: SyncResult) -> None:
        if req.filter.presence.includes_nothing:
            return
        initial = ctx.since is None or ctx.full_state
        after = 0 if ctx.since is None or initial else ctx.since.presence
        upto = ctx.token.presence
        if after >= upto:
            return
        users = await self.store.presence.users_sharing_rooms(sorted(ctx.joined))
        users.add(ctx.user_id)
        rows = await self.store.presence.of_users(sorted(users), after, upto)
        now = self.clock.time_ms()
        for row in sorted(rows, key=lambda r: r.stream_id):
            if not req.filter.presence.matches("m.presence", sender=row.user_id):
                continue
            content = self.render(row, now)
            result.presence.append(
                {"type": "m.presence", "sender": row.user_id, "content": content}
            )


def _last_active(row: PresenceRow | _Live) -> int:
    return row.last_active_ts if isinstance(row, PresenceRow) else row.last_active_ms
