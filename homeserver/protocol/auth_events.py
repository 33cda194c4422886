"""Auth events selection, and the rule on an event's auth_events list.

spec: server-server "Auth events selection"; auth rule 2 (rule 3 in room version 12)
"Considering the event's auth_events".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .auth_context import (
    CREATE,
    JOIN_RULES,
    MEMBER,
    POWER_LEVELS,
    THIRD_PARTY_INVITE,
    StateKey,
    reject,
    rule_numbers,
)
from .events import Event
from .room_versions import RoomVersion

__all__ = ["StateKey", "auth_types_for_event", "check_auth_events"]


def auth_types_for_event(
    version: RoomVersion,
    event_type: str,
    state_key: str | None,
    sender: str,
    content: Mapping[str, Any],
) -> list[StateKey]:
    """The ``(type, state_key)`` pairs whose current state events are the auth events of
    an event; the m.room.create event is among them in v1-v11, never in v12.

    spec: server-server "Auth events selection".
    """
    if event_type == CREATE:
        return []  # "The auth_events for the m.room.create event in a room is empty"
    selected: list[StateKey] = []
    if not version.room_id_from_create_event:
        selected.append((CREATE, ""))
    selected.append((POWER_LEVELS, ""))
    selected.append((MEMBER, sender))
    if event_type == MEMBER:
        membership = content.get("membership")
        if state_key is not None:
            selected.append((MEMBER, state_key))
        if membership in ("join", "invite", "knock"):
            selected.append((JOIN_RULES, ""))
        if membership == "invite":
            tpi = content.get("third_party_invite")
            signed = tpi.get("signed") if isinstance(tpi, dict) else None
            token = signed.get("token") if isinstance(signed, dict) else None
            if isinstance(token, str):
                selected.append((THIRD_PARTY_INVITE, token))
        if membership == "join" and version.restricted_join_rule:
            authoriser = content.get("join_authorised_via_users_server")
            if isinstance(authoriser, str):
                selected.append((MEMBER, authoriser))
    return list(dict.fromkeys(selected))


def check_auth_events(event: Event, auth_events: Sequence[Event]) -> None:
    """Raise ``AuthError`` if the auth events of ``event`` break rule 2 (3 in v12).

    ``auth_events`` are the events named by ``event.auth_event_ids``, their ``rejected``
    flag set by the caller. The create event is judged by rule 1 alone, so it passes here.
    """
    version = event.room_version
    if event.type == CREATE:
        return
    n = rule_numbers(version).auth_events
    allowed = set(
        auth_types_for_event(version, event.type, event.state_key, event.sender, event.content)
    )
    seen: dict[StateKey, str] = {}
    for auth_event in auth_events:
        if auth_event.state_key is None:
            raise reject(f"{n}.2", f"auth event {auth_event.event_id} is not a state event")
        key = auth_event.state_tuple
        if key in seen:
            raise reject(
                f"{n}.1",
                f"duplicate auth events for {key}: {seen[key]} and {auth_event.event_id}",
            )
        seen[key] = auth_event.event_id
    for auth_event in auth_events:
        if auth_event.state_tuple not in allowed:
            # v12: m.room.create is never selected, so it lands here too.
            raise reject(
                f"{n}.2",
                f"auth event {auth_event.event_id} {auth_event.state_tuple} is not selected"
                " by the auth events selection",
            )
    for auth_event in auth_events:
        if auth_event.rejected:
            raise reject(f"{n}.3", f"auth event {auth_event.event_id} was rejected")
    if not version.room_id_from_create_event and (CREATE, "") not in seen:
        raise reject(f"{n}.4", "no m.room.create event among the auth events")
    for auth_event in auth_events:
        if auth_event.room_id != event.room_id:
            # spec: 2.5 (printed 3.4 in v12, whose list skips the old 3.4)
            raise reject(
                f"{n}.{5 if not version.room_id_from_create_event else 4}",
                f"auth event {auth_event.event_id} is in room {auth_event.room_id}",
            )
