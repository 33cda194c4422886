"""The authorization rules as state resolution uses them.

State resolution only needs two things from the auth rules: which state keys an event's
authorization depends on, and whether the event is allowed given those state events.
``AuthRules`` bundles the two so tests can substitute simpler rules; the default is
the real rules of ``auth.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from .auth import check_auth_rules
from .auth_events import auth_types_for_event
from .events import Event

StateKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class AuthRules:
    # Raises a ProtocolError (AuthError) when the event is not allowed given the state.
    check: Callable[[Event, Mapping[StateKey, Event]], None]
    # The (type, state_key) keys whose state events the auth rules read for the event.
    auth_types: Callable[[Event], Iterable[StateKey]]


def _auth_types(event: Event) -> Iterable[StateKey]:
    return auth_types_for_event(
        event.room_version, event.type, event.state_key, event.sender, event.content
    )


REAL_AUTH_RULES = AuthRules(check=check_auth_rules, auth_types=_auth_types)
