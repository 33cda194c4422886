"""State resolution v2 (room versions 2-11) and v2.1 (room version 12).

spec: rooms/fragments/v2-state-res "Algorithm"; rooms/v12 "State resolution" (v2.1:
the first iterative auth checks start from an empty state map, and the conflicted state
subgraph joins the full conflicted set).

Where the spec leaves room for interpretation we do what Synapse and ruma do, so that
our resolved state converges with theirs:

- the graph sorted in step 1 holds the power events and the events reachable from them
  through auth events that are themselves in the full conflicted set;
- iterative auth checks start from the event's own non-rejected auth events and
  override the keys the auth rules need with the (non-rejected) events of the state
  being built.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Mapping, Sequence

from .auth_chain import EventLookup, auth_difference, conflicted_subgraph
from .errors import ProtocolError, StateResolutionError
from .events import Event
from .power_levels import room_creators, user_power_level
from .room_versions import RoomVersion, StateResAlgorithm
from .state_res_auth import AuthRules

StateKey = tuple[str, str]

_CREATE_KEY = ("m.room.create", "")
_POWER_KEY = ("m.room.power_levels", "")


def is_power_event(event: Event) -> bool:
    """spec: v2-state-res "Power events"."""
    if event.state_key is None:
        return False
    if event.type in ("m.room.power_levels", "m.room.join_rules"):
        return event.state_key == ""
    if event.type == "m.room.member":
        return event.membership in ("leave", "ban") and event.sender != event.state_key
    return False


def create_event_id_for_room(room_id: str) -> str:
    """spec: rooms/v12 — the room id is the create event id with sigil ``!``."""
    return "$" + room_id[1:]


class _Resolver:
    """One run of the algorithm; holds the per-run caches."""

    def __init__(self, version: RoomVersion, lookup: EventLookup, rules: AuthRules) -> None:
        self.version = version
        self.lookup = lookup
        self.rules = rules
        # (power levels event id or None, create event id or None, sender) -> level
        self._levels: dict[tuple[str | None, str | None, str], int] = {}
        self._creators: dict[str, frozenset[str]] = {}

    # -- power of a sender, for the reverse topological power ordering ---------------

    def _creators_of(self, create: Event) -> frozenset[str]:
        found = self._creators.get(create.event_id)
        if found is None:
            found = room_creators(create.sender, create.content, self.version)
            self._creators[create.event_id] = found
        return found

    def sender_power(self, event: Event) -> int:
        """The sender's level per the power levels and create events among the event's
        own auth events (spec: "Reverse topological power ordering" rule 1). With no
        power levels event, the creator has 100 and others 0 (spec: client-server
        m.room.power_levels); in v12 creators are infinitely powerful."""
        power: Event | None = None
        create: Event | None = None
        for auth_id in event.auth_event_ids:
            auth_event = self.lookup.get(auth_id)
            if auth_event.state_key != "":
                continue
            if auth_event.type == "m.room.power_levels" and power is None:
                power = auth_event
            elif auth_event.type == "m.room.create" and create is None:
                create = auth_event
        if self.version.room_id_from_create_event:
            create = self.lookup.get(create_event_id_for_room(event.room_id))
        cache_key = (
            None if power is None else power.event_id,
            None if create is None else create.event_id,
            event.sender,
        )
        level = self._levels.get(cache_key)
        if level is None:
            creators = frozenset() if create is None else self._creators_of(create)
            content = None if power is None else power.content
            level = user_power_level(event.sender, content, creators, self.version)
            self._levels[cache_key] = level
        return level

    # -- step 1: reverse topological power ordering -----------------------------------

    def power_sorted(self, power_ids: Iterable[str], full_conflicted: Collection[str]) -> list[str]:
        """Kahn's algorithm over the auth DAG restricted to the full conflicted set,
        always taking the smallest available event (spec: "Reverse topological power
        ordering"): highest sender power, then lowest origin_server_ts, then event id."""
        # parents_left[e]: auth events of e in the graph not yet emitted.
        parents_left: dict[str, int] = {}
        children: dict[str, list[str]] = {}
        stack = list(power_ids)
        while stack:
            event_id = stack.pop()
            if event_id in parents_left:
                continue
            count = 0
            for auth_id in set(self.lookup.auth_ids(event_id)):
                if auth_id in full_conflicted:
                    count += 1
                    children.setdefault(auth_id, []).append(event_id)
                    if auth_id not in parents_left:
                        stack.append(auth_id)
            parents_left[event_id] = count

        def key(event_id: str) -> tuple[int, int, str]:
            event = self.lookup.get(event_id)
            return (-self.sender_power(event), event.origin_server_ts, event_id)

        heap = [key(e) for e, n in parents_left.items() if n == 0]
        heapq.heapify(heap)
        ordered: list[str] = []
        while heap:
            _, _, event_id = heapq.heappop(heap)
            ordered.append(event_id)
            for child in children.get(event_id, ()):
                parents_left[child] -= 1
                if parents_left[child] == 0:
                    heapq.heappush(heap, key(child))
        if len(ordered) != len(parents_left):
            raise StateResolutionError("auth events of the conflicted events form a cycle")
        return ordered

    # -- step 3: mainline ordering --------------------------------------------------

    def _power_parent(self, event: Event) -> str | None:
        """The m.room.power_levels event among the event's auth events, if any."""
        for auth_id in event.auth_event_ids:
            auth_event = self.lookup.get(auth_id)
            if auth_event.type == "m.room.power_levels" and auth_event.state_key == "":
                return auth_id
        return None

    def mainline_sorted(self, event_ids: Iterable[str], power_id: str | None) -> list[str]:
        """spec: v2-state-res "Mainline ordering": greater mainline position first, then
        origin_server_ts, then event id."""
        position: dict[str, int] = {}
        while power_id is not None:
            if power_id in position:
                raise StateResolutionError(f"power levels auth events loop at {power_id}")
            position[power_id] = len(position)
            power_id = self._power_parent(self.lookup.get(power_id))
        unreached = len(position)  # the spec's ∞: greater than every position
        memo: dict[str, int] = {}

        def mainline_position(event: Event) -> int:
            walked: dict[str, None] = {}  # ordered, with O(1) membership
            current = self._power_parent(event)
            found = unreached
            while current is not None:
                if current in position:
                    found = position[current]
                    break
                if current in memo:
                    found = memo[current]
                    break
                if current in walked:
                    raise StateResolutionError(f"power levels auth events loop at {current}")
                walked[current] = None
                current = self._power_parent(self.lookup.get(current))
            for power_event_id in walked:
                memo[power_event_id] = found
            return found

        keys: list[tuple[int, int, str]] = []
        for event_id in event_ids:
            event = self.lookup.get(event_id)
            keys.append((-mainline_position(event), event.origin_server_ts, event_id))
        keys.sort()
        return [k[2] for k in keys]

    # -- steps 2 and 4: iterative auth checks ---------------------------------------

    def iterative_auth_checks(
        self, event_ids: Sequence[str], state: dict[StateKey, str]
    ) -> dict[StateKey, str]:
        """spec: v2-state-res "Iterative auth checks". ``state`` is updated in place."""
        lookup = self.lookup
        v12 = self.version.room_id_from_create_event
        for event_id in event_ids:
            event = lookup.get(event_id)
            if event.state_key is None:
                continue
            auth_state: dict[StateKey, Event] = {}
            for auth_id in event.auth_event_ids:
                auth_event = lookup.get(auth_id)
                # spec: "Rejected events" — rejected auth events are never a fallback.
                if not auth_event.rejected and auth_event.state_key is not None:
                    auth_state[auth_event.state_tuple] = auth_event
            if v12 and not (event.type == "m.room.create" and event.state_key == ""):
                # v12 events do not cite the create event, but the auth rules need it.
                create_id = create_event_id_for_room(event.room_id)
                auth_state[_CREATE_KEY] = lookup.get(create_id)
            try:
                needed = self.rules.auth_types(event)
            except ProtocolError:
                continue  # malformed content: it cannot pass the auth rules
            for key in needed:
                current_id = state.get(key)
                if current_id is not None:
                    current = lookup.get(current_id)
                    if not current.rejected:
                        auth_state[key] = current
            try:
                self.rules.check(event, auth_state)
            except ProtocolError:
                continue
            state[event.state_tuple] = event_id
        return state


def resolve_v2(
    version: RoomVersion,
    unconflicted: Mapping[StateKey, str],
    conflicted: Mapping[StateKey, Collection[str]],
    per_set_conflicted: Sequence[Collection[str]],
    lookup: EventLookup,
    rules: AuthRules,
) -> dict[StateKey, str]:
    """Resolve once the state sets are split (see ``state_res.resolve_state``).

    ``per_set_conflicted[i]`` are the event ids state set i holds for conflicted keys.
    """
    v2_1 = version.state_res is StateResAlgorithm.V2_1
    conflicted_ids: set[str] = set().union(*conflicted.values())
    full_conflicted = conflicted_ids | auth_difference(
        lookup, unconflicted.values(), per_set_conflicted
    )
    if v2_1:
        full_conflicted |= conflicted_subgraph(lookup, conflicted_ids)
    room_ids = {lookup.get(event_id).room_id for event_id in full_conflicted}
    if len(room_ids) > 1:
        raise StateResolutionError(f"events of several rooms: {sorted(room_ids)}")
    resolver = _Resolver(version, lookup, rules)

    # Step 1: the power events and their auth ancestors in the full conflicted set.
    power_ids = sorted(e for e in full_conflicted if is_power_event(lookup.get(e)))
    power_order = resolver.power_sorted(power_ids, full_conflicted)
    # Step 2 (v2.1 starts from the empty map: spec rooms/v12 change 1).
    initial = {} if v2_1 else dict(unconflicted)
    partial = resolver.iterative_auth_checks(power_order, initial)
    # Step 3: the rest by mainline order of the resolved power levels.
    picked = set(power_order)
    remaining = [e for e in full_conflicted if e not in picked]
    ordered = resolver.mainline_sorted(remaining, partial.get(_POWER_KEY))
    # Step 4, then step 5: the unconflicted state map wins.
    resolved = resolver.iterative_auth_checks(ordered, partial)
    resolved.update(unconflicted)
    return resolved
