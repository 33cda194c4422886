"""Property: whatever the content of member, power levels, join rules, third-party invite
and create events, the auth functions only ever raise ``AuthError``.

spec: errors.py contract — malformed input never raises KeyError/TypeError/ValueError.
"""

from __future__ import annotations

import contextlib
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from homeserver.protocol.auth import check_auth_rules
from homeserver.protocol.auth_events import auth_types_for_event, check_auth_events
from homeserver.protocol.errors import AuthError
from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import KNOWN_ROOM_VERSIONS, RoomVersion

from .room_builder import ADMIN, ALICE, BOB, MOD, USER, RoomBuilder, standard_room

USERS = [ALICE, ADMIN, MOD, USER, BOB, "@", "@x", "@:", "nobody"]
KEYS = [
    "membership",
    "users",
    "users_default",
    "events",
    "events_default",
    "state_default",
    "notifications",
    "ban",
    "kick",
    "redact",
    "invite",
    "join_rule",
    "allow",
    "third_party_invite",
    "signed",
    "mxid",
    "token",
    "signatures",
    "public_key",
    "public_keys",
    "join_authorised_via_users_server",
    "creator",
    "additional_creators",
    "room_version",
    "m.federate",
    "room",
    *USERS,
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        ["join", "invite", "leave", "ban", "knock", "public", "restricted", "50", " 7 ", "x"]
    ),
    st.sampled_from(USERS),
    st.text(max_size=8),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=6))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=10,
)
contents = st.dictionaries(keys, json_values, max_size=8)
versions = st.sampled_from(list(KNOWN_ROOM_VERSIONS.values()))


@cache
def _room(version: RoomVersion) -> RoomBuilder:
    return standard_room(version)


def _check_all(event: Event, room: RoomBuilder, state: dict[tuple[str, str], Event]) -> None:
    with contextlib.suppress(AuthError):
        check_auth_rules(event, state)
    auth_events = [room.events[i] for i in event.auth_event_ids if i in room.events]
    with contextlib.suppress(AuthError):
        check_auth_events(event, auth_events)
    auth_types_for_event(
        event.room_version, event.type, event.state_key, event.sender, event.content
    )


SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    version=versions,
    content=contents,
    membership=st.sampled_from(["join", "invite", "leave", "ban", "knock", None]),
    sender=st.sampled_from(USERS),
    target=st.one_of(st.sampled_from(USERS), st.text(max_size=5)),
)
def test_random_member_events_raise_only_auth_error(
    version: RoomVersion, content: dict[str, Any], membership: str | None, sender: str, target: str
) -> None:
    room = _room(version)
    if membership is not None:
        content = {**content, "membership": membership}
    event = room.make("m.room.member", sender, content, target)
    _check_all(event, room, room.state)


@SETTINGS
@given(version=versions, content=contents, sender=st.sampled_from(USERS))
def test_random_power_levels_raise_only_auth_error(
    version: RoomVersion, content: dict[str, Any], sender: str
) -> None:
    room = _room(version)
    event = room.make("m.room.power_levels", sender, content, "")
    _check_all(event, room, room.state)


@SETTINGS
@given(
    version=versions,
    state_type=st.sampled_from(
        ["m.room.power_levels", "m.room.join_rules", "m.room.create", "m.room.member"]
    ),
    state_content=contents,
    content=contents,
    event_type=st.sampled_from(
        [
            "m.room.member",
            "m.room.power_levels",
            "m.room.message",
            "m.room.redaction",
            "m.room.third_party_invite",
            "m.room.aliases",
        ]
    ),
    sender=st.sampled_from(USERS),
)
def test_random_state_raises_only_auth_error(
    version: RoomVersion,
    state_type: str,
    state_content: dict[str, Any],
    content: dict[str, Any],
    event_type: str,
    sender: str,
) -> None:
    """Malformed events already in the state (e.g. accepted by an older server) must not
    crash the checks of later events."""
    room = _room(version)
    key = sender if state_type == "m.room.member" else ""
    if state_type == "m.room.create" and version.room_id_from_create_event:
        # the v12 create event defines the room id: keep the real one, vary its content
        # through a member event instead
        state_type, key = "m.room.member", sender
    state_event = room.make(state_type, ALICE, state_content, key)
    state = {**room.state, (state_type, key): state_event}
    state_key = (
        sender
        if event_type == "m.room.member"
        else ("" if event_type != "m.room.message" else None)
    )
    event = room.make(event_type, sender, content, state_key)
    _check_all(event, room, state)


@SETTINGS
@given(version=versions, content=contents)
def test_random_create_events_raise_only_auth_error(
    version: RoomVersion, content: dict[str, Any]
) -> None:
    room = RoomBuilder(version)
    event = room.make(
        "m.room.create",
        ALICE,
        content,
        "",
        prev=[],
        auth=[],
        omit_room_id=version.room_id_from_create_event,
    )
    _check_all(event, room, {})
