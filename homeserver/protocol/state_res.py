"""State resolution: the state of a room where several states meet.

``resolve_state`` picks the algorithm of the room version: v1 for room version 1, v2
for versions 2 to 11, v2.1 for version 12. It is pure: events come from the caller's
``fetch_event`` (a cache or the database), nothing else is read.

spec: rooms/v1 "State resolution"; rooms/fragments/v2-state-res; rooms/v12 "State
resolution".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import chain

from .auth_chain import EventLookup
from .errors import StateResolutionError
from .events import Event
from .room_versions import RoomVersion, StateResAlgorithm
from .state_res_auth import REAL_AUTH_RULES, AuthRules
from .state_res_v1 import resolve_v1
from .state_res_v2 import is_power_event, resolve_v2

__all__ = ["StateKey", "StateMap", "is_power_event", "resolve_state"]

StateKey = tuple[str, str]
StateMap = Mapping[StateKey, str]  # (type, state_key) -> event_id


def _check_state_set(state_set: object, index: int) -> Mapping[StateKey, str]:
    """Refuse anything but a mapping of ``(str, str)`` tuples to strings.

    The checks run over types, lengths and items with ``map`` and sets, which iterate
    in C: a state set has tens of thousands of entries and this is on the hot path.
    """
    if not isinstance(state_set, Mapping):
        raise StateResolutionError(f"state set {index} is not a mapping")
    keys = state_set.keys()
    if (
        not set(map(type, state_set.values())) <= {str}
        or not set(map(type, keys)) <= {tuple}
        or not set(map(len, keys)) <= {2}
        or not set(map(type, chain.from_iterable(keys))) <= {str}
    ):
        raise StateResolutionError(
            f"state set {index} is not a map of (type, state_key) to event id"
        )
    return state_set


def _split(
    state_sets: Sequence[Mapping[StateKey, str]], missing_is_conflict: bool
) -> tuple[dict[StateKey, str], dict[StateKey, set[str]]]:
    """The unconflicted state map and the conflicted state set, per key.

    v2: a key that is absent from some state set is conflicted (spec: "present in every
    Sᵢ with the same value"); v1: only different event ids for one key conflict.
    """
    # The (key, event id) pairs in every set. (Intersecting sets of items would hash
    # every pair again: comparing values per key is several times faster.)
    unconflicted = dict(state_sets[0])
    all_keys: set[StateKey] = set(state_sets[0])
    for state_set in state_sets[1:]:
        get = state_set.get
        unconflicted = {k: v for k, v in unconflicted.items() if get(k) == v}
        all_keys.update(state_set)
    conflicted: dict[StateKey, set[str]] = {}
    for key in all_keys.difference(unconflicted):
        values = {v for s in state_sets if (v := s.get(key)) is not None}
        if len(values) == 1 and not missing_is_conflict:
            unconflicted[key] = values.pop()
        else:
            conflicted[key] = values
    return unconflicted, conflicted


def resolve_state(
    version: RoomVersion,
    state_sets: Sequence[StateMap],
    fetch_event: Callable[[str], Event | None],
    *,
    auth_rules: AuthRules | None = None,
) -> dict[StateKey, str]:
    """The resolved state of several state sets.

    ``fetch_event`` returns the event for an id or ``None`` if unknown; a missing event
    that the algorithm needs raises ``StateResolutionError``. Rejected events are marked
    by ``Event.rejected``: rejected auth events are never used as a fallback in the
    iterative auth checks (spec: v2-state-res "Rejected events"). ``auth_rules``
    replaces the real authorization rules, for tests only.
    """
    if not isinstance(state_sets, Sequence) or isinstance(state_sets, str | bytes):
        raise StateResolutionError("state_sets must be a sequence of state maps")
    sets = [_check_state_set(s, i) for i, s in enumerate(state_sets)]
    if not sets:
        return {}
    if len(sets) == 1:
        return dict(sets[0])
    if auth_rules is None:
        auth_rules = REAL_AUTH_RULES
    lookup = EventLookup(fetch_event)
    v1 = version.state_res is StateResAlgorithm.V1
    unconflicted, conflicted = _split(sets, missing_is_conflict=not v1)
    if not conflicted:
        return unconflicted
    room_ids: set[str] = set()
    for key, event_ids in conflicted.items():
        for event_id in event_ids:
            event = lookup.get(event_id)
            if event.state_key is None or event.state_tuple != key:
                raise StateResolutionError(f"event {event_id} is not the state event for {key}")
            room_ids.add(event.room_id)
    if len(room_ids) > 1:
        raise StateResolutionError(f"state sets of several rooms: {sorted(room_ids)}")
    if v1:
        return resolve_v1(unconflicted, conflicted, lookup, auth_rules)
    per_set = [{s[k] for k in conflicted if k in s} for s in sets]
    return resolve_v2(version, unconflicted, conflicted, per_set, lookup, auth_rules)
