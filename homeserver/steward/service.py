"""The steward at work: hears persisted events on the bus and reconciles the guilds
whose inputs changed, one at a time, after the burst of events has settled.

DESIGN.md "Concord layer". The bus calls ``on_event`` after the event's transaction
committed (DESIGN.md "The write path", step 6); it only notes the room and wakes the
worker, so no reconcile ever runs inside the pipeline. On start the worker reconciles
every guild the steward is in: what changed while the server was down is caught up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from homeserver.backoff_worker import BackoffPolicy
from homeserver.chat.event_types import CHANNEL_PERMISSIONS, MEMBER_ROLES, ROLE, SPACE_PARENT
from homeserver.rooms.bus import PersistedEvent
from homeserver.storage import room_reads
from homeserver.storage.store import Store

from .reconcile import Reconciler, ReconcileResult
from .snapshot import snapshot

log = logging.getLogger(__name__)

# Inputs of the compiler (issue 9): in the space roles, member roles, membership and
# children; in a channel its permissions and membership. Power levels and join rules
# are outputs: a change by someone else is put back.
SPACE_INPUTS = frozenset(
    {ROLE, MEMBER_ROLES, "m.room.member", "m.space.child", "m.room.power_levels"}
)
CHANNEL_INPUTS = frozenset(
    {CHANNEL_PERMISSIONS, "m.room.member", "m.room.power_levels", "m.room.join_rules"}
)
# What a reconcile sends: the steward's own events of these types change no input.
_OUTPUTS = frozenset({"m.room.member", "m.room.power_levels", "m.room.join_rules"})
# Events in a room not known yet that may make it (part of) a guild.
_DISCOVERY = frozenset({ROLE, MEMBER_ROLES, CHANNEL_PERMISSIONS, "m.space.child"})
# A burst of inputs (a role given to ten users) becomes one reconcile.
DEBOUNCE_SECONDS = 0.05
# After a failed reconcile (database unreachable), wait before the next one.
RETRY_SECONDS = 2.0
# After a refused action, reconcile again in 2 s, doubling up to 10 minutes.
RETRY = BackoffPolicy(min_ms=2_000, max_ms=600_000)


class Steward:
    def __init__(
        self, store: Store, reconciler: Reconciler, *, debounce: float = DEBOUNCE_SECONDS
    ) -> None:
        self.store = store
        self.reconciler = reconciler
        self.user_id = reconciler.steward
        self.debounce = debounce
        self._guilds: set[str] = set()
        self._channel_guild: dict[str, str] = {}
        self._pending: set[str] = set()  # rooms whose guild needs a reconcile
        self._wake = asyncio.Event()
        self.lock = asyncio.Lock()  # one reconcile (or guild deletion) at a time
        self._task: asyncio.Task[None] | None = None
        self._catch_up = True
        # Guilds whose last reconcile had refused actions: (the last delay in ms, the timer).
        self._retries: dict[str, tuple[int, asyncio.TimerHandle]] = {}
        self.reconciles = 0  # completed reconciles, for tests and metrics

    # ------------------------------------------------------------------ bus

    def on_event(self, item: PersistedEvent) -> None:
        event = item.event
        if self._task is None or event.state_key is None or not item.live:
            return  # a stopped steward hears nothing: its start catches up
        if event.sender == self.user_id and event.type in _OUTPUTS:
            return  # the steward's own invites, kicks, levels and rules: nothing new
        room_id = event.room_id
        if room_id in self._guilds:
            relevant = event.type in SPACE_INPUTS
        elif room_id in self._channel_guild:
            relevant = event.type in CHANNEL_INPUTS
        else:
            relevant = event.type in _DISCOVERY
        if relevant:
            self.schedule(room_id)

    def schedule(self, room_id: str) -> None:
        """Reconcile the guild of ``room_id`` (a space or one of its channels) soon."""
        self._pending.add(room_id)
        self._wake.set()

    def forget(self, guild_id: str) -> None:
        """Stop steering a deleted guild."""
        self._retry_later(guild_id, failed=False)
        self._guilds.discard(guild_id)
        self._pending.discard(guild_id)
        for channel in [c for c, g in self._channel_guild.items() if g == guild_id]:
            del self._channel_guild[channel]
            self._pending.discard(channel)

    # ------------------------------------------------------------------ reconciling

    async def reconcile(self, guild_id: str) -> ReconcileResult:
        """Reconcile one guild now (endpoints call this before they answer)."""
        async with self.lock:
            result = await self.reconciler.reconcile(guild_id)
            self.reconciles += 1
        if result.channels or guild_id in self._guilds:
            self._note(guild_id, result)
        self._retry_later(guild_id, failed=result.failed > 0)
        return result

    def _retry_later(self, guild_id: str, *, failed: bool) -> None:
        """A refused action (a remote invitee's server down) is tried again, with
        exponential backoff, until a reconcile of the guild succeeds in full."""
        retry = self._retries.pop(guild_id, None)
        if retry is not None:
            retry[1].cancel()
        if not failed or self._task is None:
            return
        delay_ms = RETRY.next_interval(retry[0] if retry else 0)
        handle = asyncio.get_running_loop().call_later(delay_ms / 1000, self.schedule, guild_id)
        self._retries[guild_id] = (delay_ms, handle)

    def _note(self, guild_id: str, result: ReconcileResult) -> None:
        self._guilds.add(guild_id)
        for channel in [c for c, g in self._channel_guild.items() if g == guild_id]:
            if channel not in result.channels:
                del self._channel_guild[channel]
        for channel in result.channels:
            self._channel_guild[channel] = guild_id

    async def _guild_of(self, room_id: str) -> str | None:
        if room_id in self._guilds:
            return room_id
        if room_id in self._channel_guild:
            return self._channel_guild[room_id]
        if await self.reconciler.load_guild(room_id) is not None:
            return room_id
        # A channel not seen yet: its canonical parent, if that is one of our guilds.
        room = await snapshot(self.reconciler.rooms, room_id)
        if room is None or room.creator != self.user_id:
            return None
        for event_type, parent in room.state:
            if (
                event_type == SPACE_PARENT
                and room.content(SPACE_PARENT, parent).get("via")
                and await self.reconciler.load_guild(parent) is not None
            ):
                return parent
        return None

    async def _all_guilds(self) -> list[str]:
        joined = await self.store.db.read(room_reads.joined_rooms, self.user_id)
        return [room for room in joined if await self.reconciler.load_guild(room) is not None]

    async def run_once(self) -> int:
        """Reconcile every guild with pending inputs (all of them after a start);
        returns how many were reconciled."""
        if self._catch_up:
            self._catch_up = False
            try:
                self._pending.update(await self._all_guilds())
            except BaseException:
                self._catch_up = True
                raise
        rooms, self._pending = self._pending, set()
        guilds: set[str] = set()
        try:
            for room in sorted(rooms):
                guild = await self._guild_of(room)
                if guild is not None:
                    guilds.add(guild)
            for guild in sorted(guilds):
                await self.reconcile(guild)
                guilds.discard(guild)
        except BaseException:
            self._pending.update(guilds)  # redo the guilds not done yet
            raise
        return len(rooms)

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("steward reconcile failed; retrying")
                await asyncio.sleep(RETRY_SECONDS)
                self._wake.set()
            if not self._pending:
                await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(self.debounce)

    def start(self) -> None:
        """Start the worker; its first round reconciles every guild (catch-up)."""
        if self._task is None:
            self._catch_up = True
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        for _, handle in self._retries.values():
            handle.cancel()
        self._retries.clear()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def running(self) -> bool:
        return self._task is not None

    @property
    def busy(self) -> bool:
        """Whether a reconcile is pending or under way."""
        return bool(self._pending) or self._catch_up or self.lock.locked()
