"""Push rules run on every event for every local member it may notify.

spec: client-server "Server behaviour" (push rules are processed for each local user in
the room but the sender), "Push Rules" (the sender is never notified of their own
events). Subscribed to the ``EventBus``: events are queued after their commit and a
single worker evaluates them in stream order, storing the actions of those that notify
or highlight (``event_push_actions``: ``/notifications``, unread counts, pushers).

The worker's position is stored with what it writes, so after a restart it evaluates
the events it had not reached (evaluating one twice changes nothing). ``wait_for``
lets ``/sync`` wait until the events it returns have been evaluated, so their unread
counts come in the same response (spec: "Server behaviour").

Per event: the room's joined members come from a small cache (dropped on the room's
membership events), each recipient's rules from the ``RulesetCache``, power levels
from the ``RoomStateCache``; what is missing is read in one transaction. A message
with Concord ``@role`` mentions names the roles' members as user mentions
(``role_mentions.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from homeserver.clock import Clock
from homeserver.logs import fields
from homeserver.lru import LruCache
from homeserver.protocol.events import Event
from homeserver.protocol.push_eval import (
    EventEvaluator,
    RoomFacts,
    effective_actions,
    highlights,
    notifies,
)
from homeserver.protocol.push_rules import Ruleset
from homeserver.rooms.bus import PersistedEvent
from homeserver.rooms.room_state import RoomStateCache
from homeserver.storage import push_actions_store
from homeserver.storage.database import Txn
from homeserver.storage.push_actions_store import PushActionRow
from homeserver.storage.store import Store

from .role_mentions import role_mention_users, with_user_mentions
from .rules import RulesetCache, load_rulesets

log = logging.getLogger(__name__)

POSITION_NAME = "push_rule_evaluator"
BATCH = 100
# Without anything to store, the position is written every this many events (a restart
# evaluates at most these again).
SAVE_EVERY = 100
RETRY_S = 1.0


@dataclass(frozen=True, slots=True)
class RoomMembers:
    joined: int
    local: tuple[str, ...]  # local joined members


def _eval_dict(event: Event) -> dict[str, Any]:
    pdu = event.pdu
    if "room_id" in pdu:
        return pdu
    return {**pdu, "room_id": event.room_id}  # a v12 create event


class PushEvaluator:
    def __init__(
        self,
        store: Store,
        rooms: RoomStateCache,
        rules: RulesetCache,
        clock: Clock,
        server_name: str,
        *,
        on_notified: Callable[[set[str]], None] | None = None,
    ) -> None:
        self.store = store
        self.rooms = rooms
        self.rules = rules
        self.clock = clock
        self.server_name = server_name
        self.on_notified = on_notified
        self.position = 0  # every event up to here is evaluated and stored
        self._saved = 0
        self._backlog_upto = 0
        self._queue: deque[PersistedEvent] = deque()
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._members: LruCache[str, RoomMembers] = LruCache(1_000)
        # Events whose actions were stored in their own transaction, until the worker
        # passes them: their notified users (for the pushers).
        self._inline: dict[str, set[str]] = {}
        self._busy = False  # the worker is processing a batch

    def is_local(self, user_id: str) -> bool:
        return user_id.partition(":")[2] == self.server_name

    # ------------------------------------------------------------------ lifecycle

    async def in_transaction(self, event: Event) -> Callable[[Txn, int], None] | None:
        """``EventPipeline.persist_hooks``: a message's push actions are computed before
        it is stored and written in its own transaction, as Synapse does, so its unread
        counts exist as soon as it does and no second write competes with sends. State
        events (whose membership changes the recipients) stay with the worker."""
        if self._task is None or self._stopping or event.state_key is not None:
            return None
        try:
            rows = await self._evaluate(event, 0)
        except Exception:
            log.exception("push rule evaluation failed", extra=fields(event_id=event.event_id))
            return None  # the worker tries again after the commit
        self._inline[event.event_id] = {row.user_id for row in rows if row.notify}
        if not rows:
            return None

        def write(txn: Txn, stream: int) -> None:
            push_actions_store.insert_push_actions(txn, rows, stream_ordering=stream)

        return write

    def on_event(self, item: PersistedEvent) -> None:
        """Bus subscriber: queue the event for the worker."""
        if self._stopping:
            return  # evaluated after the restart, from the stored position
        if (
            not self._queue
            and not self._busy  # a batch in hand is older: it must move the position first
            and self.position >= self._backlog_upto
            and item.stream_ordering > self.position
            and item.event.event_id in self._inline
        ):
            # Its actions were stored with it and nothing is ahead of it: the position
            # moves now, so syncs waiting for it (unread counts) answer at once.
            notified = self._inline.pop(item.event.event_id)
            self.position = item.stream_ordering
            self._wake_waiters()
            if notified and self.on_notified is not None:
                self.on_notified(notified)
            if self.position - self._saved < SAVE_EVERY:
                return  # the worker stores the position with a later batch
        self._queue.append(item)
        if self._wakeup is not None:
            self._wakeup.set()

    async def start(self, persisted_upto: int) -> None:
        """Resume from the stored position (the first start begins at the present)."""
        saved = await self.store.push.position(POSITION_NAME)
        if saved is None:
            saved = persisted_upto
            await self.store.db.write(push_actions_store.set_position, POSITION_NAME, saved)
        self.position = self._saved = saved
        self._backlog_upto = persisted_upto
        self._stopping = False
        self._wakeup = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, timeout: float = 5.0) -> None:
        """Finish the batch in hand, store the position, stop."""
        self._stopping = True
        if self._wakeup is not None:
            self._wakeup.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(task, timeout)
            except TimeoutError:
                log.warning("push rule evaluator did not stop in time")
            except Exception:
                log.exception("push rule evaluator failed while stopping")
        if self.position > self._saved:
            try:
                await self.store.db.write(
                    push_actions_store.set_position, POSITION_NAME, self.position
                )
            except Exception:
                log.exception("could not store the push rule evaluator's position")
        for _, future in self._waiters:
            if not future.done():
                future.set_result(None)
        self._waiters.clear()

    async def wait_for(self, position: int, timeout: float = 2.0) -> bool:
        """Wait until every event up to ``position`` is evaluated (at most ``timeout``
        seconds); True if it is."""
        if self.position >= position or self._task is None:
            return self.position >= position
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (position, future)
        self._waiters.append(entry)
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            pass
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)
        return self.position >= position

    # ------------------------------------------------------------------ the worker

    async def _run(self) -> None:
        assert self._wakeup is not None
        while not self._stopping:
            try:
                items = await self._next_batch()
            except Exception:
                log.exception("reading events for push rules failed; retrying")
                await asyncio.sleep(RETRY_S)
                continue
            if items is None:
                await self._wakeup.wait()
                self._wakeup.clear()
                continue
            self._busy = True
            try:
                await self._process(items)
            finally:
                self._busy = False

    async def _next_batch(self) -> list[PersistedEvent] | None:
        if self.position < self._backlog_upto:
            stored = await self.store.db.read(
                push_actions_store.events_between, self.position, self._backlog_upto, BATCH
            )
            if stored:
                return [PersistedEvent(s.event, s.stream_ordering) for s in stored]
            self._backlog_upto = 0
        if not self._queue:
            return None
        batch: list[PersistedEvent] = []
        while self._queue and len(batch) < BATCH:
            batch.append(self._queue.popleft())
        return batch

    async def _process(self, items: Sequence[PersistedEvent]) -> None:
        rows: list[PushActionRow] = []
        notified: set[str] = set()
        position = self.position
        for item in items:
            if item.stream_ordering <= position:
                continue  # already evaluated (the backlog met the live queue)
            done_inline = self._inline.pop(item.event.event_id, None)
            if done_inline is not None:
                notified |= done_inline  # stored with the event itself
                position = item.stream_ordering
                continue
            try:
                rows += await self._evaluate(item.event, item.stream_ordering)
            except Exception:
                log.exception(
                    "push rule evaluation failed", extra=fields(event_id=item.event.event_id)
                )
            position = item.stream_ordering
        target = max(position, self.position)  # on_event's fast path may be ahead
        if rows or target - self._saved >= SAVE_EVERY:
            await self._commit(rows, target)
        if position > self.position:
            self.position = position
            self._wake_waiters()
        notified |= {row.user_id for row in rows if row.notify}
        if notified and self.on_notified is not None:
            self.on_notified(notified)

    async def _commit(self, rows: list[PushActionRow], position: int) -> None:
        def write(txn: Txn) -> None:
            push_actions_store.insert_push_actions(txn, rows)
            push_actions_store.set_position(txn, POSITION_NAME, position)

        while True:
            try:
                await self.store.db.write(write)
                self._saved = position
                return
            except Exception:
                if self._stopping:
                    raise
                log.exception("storing push actions failed; retrying")
                await asyncio.sleep(RETRY_S)

    def _wake_waiters(self) -> None:
        keep: list[tuple[int, asyncio.Future[None]]] = []
        for position, future in self._waiters:
            if position <= self.position:
                if not future.done():
                    future.set_result(None)
            else:
                keep.append((position, future))
        self._waiters = keep

    # ------------------------------------------------------------------ one event

    def _recipients(self, event: Event, members: RoomMembers) -> list[str]:
        users = [u for u in members.local if u != event.sender]
        if (
            event.type == "m.room.member"
            and event.membership == "invite"
            and event.state_key
            and event.state_key != event.sender
            and self.is_local(event.state_key)
            and event.state_key not in users
        ):
            users.append(event.state_key)  # spec: ".m.rule.invite_for_me"
        return users

    async def _evaluate(self, event: Event, stream: int) -> list[PushActionRow]:
        room_id = event.room_id
        if event.type == "m.room.member":
            self._members.pop(room_id)
        cached_members = self._members.get(room_id)
        known: dict[str, Ruleset] = {}
        needs_read = cached_members is None
        if cached_members is not None:
            recipients = self._recipients(event, cached_members)
            if not recipients:
                return []
            for user_id in recipients:
                cached = self.rules.get(user_id)
                if cached is None or cached.uses_display_name:
                    needs_read = True
                else:
                    known[user_id] = cached
        if needs_read:
            generation = self.rules.generation
            members, rulesets, names = await self.store.db.read(
                self._read_room, room_id, event, cached_members, known
            )
            self._members.set(room_id, members)
            for user_id, ruleset in rulesets.items():
                self.rules.put(user_id, ruleset, generation)
        else:
            assert cached_members is not None
            members, rulesets, names = cached_members, known, {}
        recipients = self._recipients(event, members)
        if not recipients:
            return []
        try:
            power = await self.rooms.power(room_id)
        except KeyError:
            return []
        facts = RoomFacts(
            member_count=members.joined,
            sender_power=power.user_level(event.sender),
            notification_levels=power.levels.notifications,
        )
        event_dict = _eval_dict(event)
        evaluator = EventEvaluator(event_dict, facts)
        # ``@role`` mentions: the role's members are evaluated as if the event listed
        # them in ``m.mentions.user_ids`` (role_mentions.py).
        named = await role_mention_users(self.rooms, event) & frozenset(recipients)
        as_named = EventEvaluator(with_user_mentions(event_dict, named), facts) if named else None
        now = self.clock.time_ms()
        rows: list[PushActionRow] = []
        for user_id in recipients:
            found = rulesets.get(user_id)
            if found is None:
                continue
            chosen = as_named if as_named is not None and user_id in named else evaluator
            rule = chosen.first_match(found.in_order(), user_id, names.get(user_id))
            if rule is None:
                continue  # spec: no rule matched, no notification
            actions = effective_actions(rule.actions)
            notify, highlight = notifies(actions), highlights(actions)
            if notify or highlight:
                rows.append(
                    PushActionRow(
                        user_id, room_id, event.event_id, stream, actions, notify, highlight, now
                    )
                )
        return rows

    def _read_room(
        self,
        txn: Txn,
        room_id: str,
        event: Event,
        members: RoomMembers | None,
        known: Mapping[str, Ruleset],
    ) -> tuple[RoomMembers, dict[str, Ruleset], dict[str, str]]:
        """In the database thread: the members (unless known), the recipients' rulesets
        not in ``known``, and display names for the rules that need them."""
        if members is None:
            joined = push_actions_store.joined_members(txn, room_id)
            members = RoomMembers(len(joined), tuple(u for u in joined if self.is_local(u)))
        recipients = self._recipients(event, members)
        rulesets = dict(known)
        missing = [u for u in recipients if u not in rulesets]
        if missing:
            rulesets.update(load_rulesets(txn, missing))
        wanting = [u for u in recipients if rulesets[u].uses_display_name]
        names = push_actions_store.member_display_names(txn, room_id, wanting) if wanting else {}
        return members, rulesets, names
