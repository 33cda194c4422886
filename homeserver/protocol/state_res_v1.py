"""State resolution v1 (room version 1).

spec: rooms/v1 "State resolution". Known to reset state in some cases (hence v2); we
implement it as written, with Synapse's reading of the unclear points so that we agree
with the rooms that still use it:

- the state the conflicted events are checked against is the unconflicted state's
  events for the keys the auth rules need, updated after each pass (power levels, then
  join rules, then members, then the rest);
- when no event of an "other" conflict passes the auth rules, the first in order
  (highest depth, lowest sha1 of the event id) is kept, so the result is deterministic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping

from .auth_chain import EventLookup
from .errors import ProtocolError
from .events import Event
from .state_res_auth import AuthRules

StateKey = tuple[str, str]

_POWER_KEY = ("m.room.power_levels", "")


def _order_key(event: Event) -> tuple[int, str]:
    # Highest depth first, then lowest sha1(event_id).
    return (-event.depth, hashlib.sha1(event.event_id.encode("utf-8")).hexdigest())


def _resolve_auth_key(
    events: list[Event], state: Mapping[StateKey, Event], rules: AuthRules
) -> Event:
    """Power levels / join rules / member conflict: walk the events by ascending depth
    then descending sha1(event_id), keeping each while the next is allowed."""
    ordered = sorted(events, key=_order_key, reverse=True)
    current = dict(state)
    kept = ordered[0]
    for event in ordered[1:]:
        current[kept.state_tuple] = kept
        try:
            rules.check(event, current)
        except ProtocolError:
            return kept
        kept = event
    return kept


def _resolve_other_key(
    events: list[Event], state: Mapping[StateKey, Event], rules: AuthRules
) -> Event:
    """Any other conflict: the highest-depth, lowest-sha1 event allowed in ``state``."""
    ordered = sorted(events, key=_order_key)
    for event in ordered:
        try:
            rules.check(event, state)
        except ProtocolError:
            continue
        return event
    return ordered[0]


def resolve_v1(
    unconflicted: Mapping[StateKey, str],
    conflicted: Mapping[StateKey, Collection[str]],
    lookup: EventLookup,
    rules: AuthRules,
) -> dict[StateKey, str]:
    """Resolve once split: ``unconflicted`` is the union of the state sets without the
    conflicting keys, ``conflicted`` the event ids per conflicting key."""
    events = {key: [lookup.get(e) for e in ids] for key, ids in conflicted.items()}
    # R, restricted to the keys the auth rules read for the conflicted events.
    state: dict[StateKey, Event] = {}
    for candidates in events.values():
        for event in candidates:
            try:
                needed = rules.auth_types(event)
            except ProtocolError:
                continue
            for key in needed:
                event_id = unconflicted.get(key)
                if event_id is not None and key not in state:
                    state[key] = lookup.get(event_id)

    resolved: dict[StateKey, Event] = {}
    if _POWER_KEY in events:
        resolved[_POWER_KEY] = _resolve_auth_key(events[_POWER_KEY], state, rules)
        state.update(resolved)
    for event_type in ("m.room.join_rules", "m.room.member"):
        # Sorted so that the outcome never depends on the order of the input.
        for key in sorted(k for k in events if k[0] == event_type):
            resolved[key] = _resolve_auth_key(events[key], state, rules)
        state.update(resolved)
    for key in sorted(k for k in events if k not in resolved):
        resolved[key] = _resolve_other_key(events[key], state, rules)

    result = dict(unconflicted)
    result.update((key, event.event_id) for key, event in resolved.items())
    return result
