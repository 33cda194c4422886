"""Loading what a sync response needs about its rooms, in one read transaction.

The handler decides which rooms a response covers and how (a ``RoomPlan`` each);
``load_rooms`` runs every plan's queries in one transaction on the database's
thread: the timeline (newest ``limit`` events the filter accepts), the state at the
start of the timeline (full, or the delta from the previous sync, from the state
group cache where it can), the summary, transaction ids and redactions; what every
room needs is read for all the rooms at once. Event bodies of state are fetched afterwards
through the event cache, once the filters have picked the keys they want.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from homeserver.rooms.access import visibility_checkers
from homeserver.rooms.bundles import load_bundles
from homeserver.rooms.events_view import UnsignedExtras, Viewer, load_extras
from homeserver.storage import events_store, state_store, sync_store
from homeserver.storage.database import Txn
from homeserver.storage.events_store import StoredEvent
from homeserver.storage.relations_store import RelationRooms
from homeserver.storage.rooms_store import Membership
from homeserver.storage.state_store import StateGroupCache
from homeserver.storage.sync_store import Summary, Timeline, Window

StateKey = tuple[str, str]
StateMap = dict[StateKey, str]

# spec: client-server "Stripped state" — what an invitee or knocker sees of a room.
STRIPPED_STATE_TYPES = (
    "m.room.create",
    "m.room.name",
    "m.room.avatar",
    "m.room.topic",
    "m.room.join_rules",
    "m.room.canonical_alias",
    "m.room.encryption",
)


@dataclass(frozen=True, slots=True)
class RoomPlan:
    room_id: str
    section: str  # "join" | "leave" | "invite" | "knock"
    membership: Membership
    after: int | None  # timeline lower bound (exclusive); None: the room's recent history
    upto: int  # timeline upper bound (inclusive): the sync position, or the user's leave
    full_state: bool  # state = all of it at the start of the timeline, else the delta
    # The user's membership changed in the window: look at it before ``after`` to tell a
    # new join (full state, recent history) from a continuing one.
    check_membership: bool = False


@dataclass
class LoadedRoom:
    plan: RoomPlan
    timeline: list[StoredEvent] = field(default_factory=list)
    limited: bool = False
    state_ids: StateMap = field(default_factory=dict)  # full or delta, before filtering
    start_state: StateMap | None = None  # the full state at the start of the timeline
    full_state: bool = False
    newly_joined: bool = False
    summary: Summary | None = None
    stripped_ids: StateMap = field(default_factory=dict)
    membership_event: StoredEvent | None = None


@dataclass
class LoadedRooms:
    rooms: dict[str, LoadedRoom]
    extras: UnsignedExtras  # for the timelines' events (transaction ids, prev_content, ...)


def _state_at_group(txn: Txn, group: int | None, groups: StateGroupCache | None) -> StateMap:
    return {} if group is None else state_store.load_state_group(txn, group, groups)


def _load_stripped(txn: Txn, plan: RoomPlan, loaded: LoadedRoom) -> None:
    event = events_store.get_events(txn, [plan.membership.event_id]).get(plan.membership.event_id)
    loaded.membership_event = event
    keys: list[StateKey] = [(typ, "") for typ in STRIPPED_STATE_TYPES]
    if event is not None:
        keys.append(("m.room.member", event.event.sender))
    loaded.stripped_ids = sync_store.current_state_ids_for(txn, plan.room_id, keys)


@dataclass(frozen=True, slots=True)
class _Range:
    """What a room's timeline covers, once the user's membership was looked at."""

    window: Window
    full_state: bool
    # The window reaches back before the user's membership, or the membership changed
    # in it: history visibility decides event by event.
    check_visibility: bool


def _timeline_range(txn: Txn, plan: RoomPlan, loaded: LoadedRoom, user_id: str) -> _Range | None:
    """The timeline window of a "join" or "leave" room (None: ``loaded`` is complete)."""
    after, full_state = plan.after, plan.full_state
    room_id = plan.room_id
    if plan.check_membership and plan.section == "leave":
        # A leave from a room the user never joined (a rejected invite, a refused
        # knock) shows only the leave itself: nothing of the room was visible.
        before_leave = sync_store.membership_at(
            txn, room_id, user_id, plan.membership.stream_ordering - 1
        )
        if before_leave != "join":
            event = events_store.get_events(txn, [plan.membership.event_id])
            loaded.timeline = list(event.values())
            return None
    if (
        plan.check_membership
        and after is not None
        and sync_store.membership_at(txn, room_id, user_id, after) != "join"
    ):
        full_state = True
        if plan.section == "join":
            loaded.newly_joined = True
            after = None  # a new member gets the room's recent history
    check_visibility = after is None or plan.check_membership
    return _Range(Window(room_id, after, plan.upto), full_state, check_visibility)


def _load_state(
    txn: Txn,
    span: _Range,
    loaded: LoadedRoom,
    timeline: Timeline,
    want_start_state: bool,
    groups: StateGroupCache | None,
) -> None:
    """The room's state at the start of its timeline: full, or the delta since ``after``."""
    room_id, after, upto = span.window.room_id, span.window.after, span.window.upto
    full_state = span.full_state
    loaded.timeline = timeline.events
    loaded.limited = timeline.limited
    loaded.full_state = full_state
    need_full_start = full_state or (timeline.skipped and after is not None)
    if not need_full_start and not want_start_state:
        start_group = None  # not needed
    elif timeline.events:
        start_group = timeline.events[0].state_group_before
    else:
        start_group = sync_store.state_group_at(txn, room_id, upto)[1]
    senders = sorted({("m.room.member", e.event.sender) for e in timeline.events})
    if full_state:
        loaded.start_state = _state_at_group(txn, start_group, groups)
        loaded.state_ids = dict(loaded.start_state)
    elif need_full_start and after is not None:
        # spec: GET /sync "state" — the delta between the state at `since` and at
        # the start of the timeline (what the events the timeline left out changed).
        before_group = sync_store.state_group_at(txn, room_id, after)[1]
        delta = sync_store.state_delta(txn, before_group, start_group)
        if delta is None:  # not a plain descendant: compare the full maps
            start = _state_at_group(txn, start_group, groups)
            before = _state_at_group(txn, before_group, groups)
            delta = {k: v for k, v in start.items() if before.get(k) != v}
        loaded.state_ids = delta
        if want_start_state:
            loaded.start_state = sync_store.state_entries_at(txn, start_group, senders, groups)
    elif want_start_state:
        # Lazy-loaded members: only the timeline senders' memberships at its start.
        loaded.start_state = sync_store.state_entries_at(txn, start_group, senders, groups)


def _needs_summary(loaded: LoadedRoom) -> bool:
    return loaded.plan.section == "join" and (
        loaded.full_state
        or any(e.event.type == "m.room.member" for e in loaded.timeline)
        or any(k[0] == "m.room.member" for k in loaded.state_ids)
    )


def load_rooms(
    txn: Txn,
    plans: Sequence[RoomPlan],
    user_id: str,
    device_id: str,
    limit: int,
    accept: Callable[[StoredEvent], bool],
    want_start_state: bool,
    groups: StateGroupCache | None = None,
    relation_rooms: RelationRooms | None = None,
) -> LoadedRooms:
    """Every plan's data. The queries every room needs run once for all the rooms
    (visibility histories, the first page of each timeline, summaries): on
    PostgreSQL each statement is a round trip, so per-room queries add up."""
    rooms: dict[str, LoadedRoom] = {}
    spans: list[_Range] = []
    for plan in plans:
        loaded = rooms[plan.room_id] = LoadedRoom(plan)
        if plan.section in ("invite", "knock"):
            _load_stripped(txn, plan, loaded)
        elif (span := _timeline_range(txn, plan, loaded, user_id)) is not None:
            spans.append(span)
    checkers = visibility_checkers(
        txn, [span.window.room_id for span in spans if span.check_visibility], user_id
    )
    pages = sync_store.first_pages(txn, [span.window for span in spans], limit + 1)
    for span in spans:
        room_id = span.window.room_id
        room_accept = accept
        if (visible := checkers.get(room_id)) is not None:
            room_accept = _both(accept, visible)
        timeline = sync_store.recent_events(
            txn,
            room_id,
            span.window.after,
            span.window.upto,
            limit,
            room_accept,
            pages[room_id],
        )
        _load_state(txn, span, rooms[room_id], timeline, want_start_state, groups)
    wanted = [room_id for room_id, loaded in rooms.items() if _needs_summary(loaded)]
    for room_id, summary in sync_store.room_summaries(txn, wanted, user_id).items():
        rooms[room_id].summary = summary
    timeline_events = [e for r in rooms.values() for e in r.timeline]
    extras = load_extras(
        txn, timeline_events, Viewer(user_id, device_id), groups=groups, bundle=False
    )
    # spec: "Aggregations of child events" — /sync bundles aggregations where the
    # timeline is `limited`; otherwise the client saw every child and aggregates itself.
    limited = [e for r in rooms.values() if r.limited for e in r.timeline]
    if limited:
        bundles = load_bundles(txn, limited, user_id, relation_rooms)
        if bundles:
            extras = dataclasses.replace(extras, relations=bundles)
    return LoadedRooms(rooms, extras)


def _both(
    first: Callable[[StoredEvent], bool], second: Callable[[StoredEvent], bool]
) -> Callable[[StoredEvent], bool]:
    return lambda stored: first(stored) and second(stored)
