"""Auth events selection and rule 2 (rule 3 in v12) on the auth_events list.

spec: server-server "Auth events selection"; rooms auth rule 2.1-2.5 (v12: 3.1-3.4).
"""

from __future__ import annotations

from typing import Any

import pytest

from homeserver.protocol.auth_events import auth_types_for_event, check_auth_events
from homeserver.protocol.errors import AuthError
from homeserver.protocol.room_versions import V1, V7, V8, V11, V12, RoomVersion

from .auth_expect import top, version_params
from .room_builder import ALICE, BOB, MOD, USER, RoomBuilder, standard_room

ALL = version_params()
V1_TO_V11 = version_params(lambda v: not v.room_id_from_create_event)

CREATE = ("m.room.create", "")
PL = ("m.room.power_levels", "")
JR = ("m.room.join_rules", "")


def member(user: str) -> tuple[str, str]:
    return ("m.room.member", user)


# (version, type, state_key, sender, content, expected)
SELECTION: list[tuple[RoomVersion, str, str | None, str, dict[str, Any], list[Any]]] = [
    (V1, "m.room.create", "", ALICE, {}, []),
    (V12, "m.room.create", "", ALICE, {}, []),
    (V8, "m.room.create", "x", ALICE, {}, []),
    (V1, "m.room.message", None, BOB, {"body": "x"}, [CREATE, PL, member(BOB)]),
    (V11, "m.room.topic", "", BOB, {}, [CREATE, PL, member(BOB)]),
    # v12: the create event is never selected
    (V12, "m.room.message", None, BOB, {}, [PL, member(BOB)]),
    (V12, "m.room.member", BOB, BOB, {"membership": "join"}, [PL, member(BOB), JR]),
    (V1, "m.room.member", BOB, BOB, {"membership": "join"}, [CREATE, PL, member(BOB), JR]),
    # target's member event, join rules for invite
    (
        V1,
        "m.room.member",
        BOB,
        ALICE,
        {"membership": "invite"},
        [CREATE, PL, member(ALICE), member(BOB), JR],
    ),
    (V7, "m.room.member", BOB, BOB, {"membership": "knock"}, [CREATE, PL, member(BOB), JR]),
    # no join rules for leave or ban
    (
        V1,
        "m.room.member",
        BOB,
        ALICE,
        {"membership": "ban"},
        [CREATE, PL, member(ALICE), member(BOB)],
    ),
    (V1, "m.room.member", BOB, BOB, {"membership": "leave"}, [CREATE, PL, member(BOB)]),
    # third-party invite token
    (
        V1,
        "m.room.member",
        BOB,
        ALICE,
        {"membership": "invite", "third_party_invite": {"signed": {"token": "tok"}}},
        [CREATE, PL, member(ALICE), member(BOB), JR, ("m.room.third_party_invite", "tok")],
    ),
    (
        V1,
        "m.room.member",
        BOB,
        ALICE,
        {"membership": "invite", "third_party_invite": {"signed": {"token": 5}}},
        [CREATE, PL, member(ALICE), member(BOB), JR],
    ),
    # join_authorised_via_users_server from v8 (restricted rooms) and for joins only
    (
        V8,
        "m.room.member",
        BOB,
        BOB,
        {"membership": "join", "join_authorised_via_users_server": MOD},
        [CREATE, PL, member(BOB), JR, member(MOD)],
    ),
    (
        V12,
        "m.room.member",
        BOB,
        BOB,
        {"membership": "join", "join_authorised_via_users_server": MOD},
        [PL, member(BOB), JR, member(MOD)],
    ),
    (
        V7,
        "m.room.member",
        BOB,
        BOB,
        {"membership": "join", "join_authorised_via_users_server": MOD},
        [CREATE, PL, member(BOB), JR],
    ),
    (
        V8,
        "m.room.member",
        BOB,
        BOB,
        {"membership": "leave", "join_authorised_via_users_server": MOD},
        [CREATE, PL, member(BOB)],
    ),
    # malformed content selects nothing extra and does not raise
    (V1, "m.room.member", BOB, BOB, {"membership": ["join"]}, [CREATE, PL, member(BOB)]),
    (V8, "m.room.member", None, BOB, {"membership": "join"}, [CREATE, PL, member(BOB), JR]),
]


@pytest.mark.parametrize(
    ("version", "event_type", "state_key", "sender", "content", "expected"), SELECTION
)
def test_auth_types_for_event(
    version: RoomVersion,
    event_type: str,
    state_key: str | None,
    sender: str,
    content: dict[str, Any],
    expected: list[Any],
) -> None:
    assert auth_types_for_event(version, event_type, state_key, sender, content) == expected


@pytest.mark.parametrize("version", ALL)
def test_self_membership_is_selected_once(version: RoomVersion) -> None:
    found = auth_types_for_event(version, "m.room.member", BOB, BOB, {"membership": "join"})
    assert found.count(member(BOB)) == 1


def _auth_error(version: RoomVersion, call: Any, rule: str) -> None:
    with pytest.raises(AuthError) as info:
        call()
    assert str(info.value).startswith(f"rule {rule}:"), str(info.value)


@pytest.mark.parametrize("version", ALL)
def test_selected_auth_events_pass(version: RoomVersion) -> None:
    room = standard_room(version)
    event = room.make("m.room.message", USER, {"body": "hi"})
    check_auth_events(event, [room.events[i] for i in event.auth_event_ids])


@pytest.mark.parametrize("version", ALL)
def test_create_event_passes_without_auth_events(version: RoomVersion) -> None:
    room = standard_room(version)
    create = room.state[CREATE]
    check_auth_events(create, [])


@pytest.mark.parametrize("version", ALL)
def test_rule_x_1_duplicate_type_and_state_key(version: RoomVersion) -> None:
    room = standard_room(version)
    old_pl = room.state[PL]
    room.send("m.room.power_levels", ALICE, room.power_levels_content(), "")
    event = room.make("m.room.message", USER, {"body": "hi"})
    auth = [room.events[i] for i in event.auth_event_ids] + [old_pl]
    n = top(version, "auth_events")
    _auth_error(version, lambda: check_auth_events(event, auth), f"{n}.1")


@pytest.mark.parametrize("version", ALL)
def test_rule_x_2_entry_not_selected(version: RoomVersion) -> None:
    room = standard_room(version)
    event = room.make("m.room.message", USER, {"body": "hi"})
    auth = [room.events[i] for i in event.auth_event_ids] + [room.state[JR]]
    n = top(version, "auth_events")
    _auth_error(version, lambda: check_auth_events(event, auth), f"{n}.2")
    # another user's membership is not selected either
    auth = [room.events[i] for i in event.auth_event_ids] + [room.state[member(MOD)]]
    _auth_error(version, lambda: check_auth_events(event, auth), f"{n}.2")


@pytest.mark.parametrize("version", version_params(lambda v: v.room_id_from_create_event))
def test_v12_rule_3_2_create_event_must_not_be_an_auth_event(version: RoomVersion) -> None:
    room = standard_room(version)
    event = room.make("m.room.message", USER, {"body": "hi"})
    auth = [room.events[i] for i in event.auth_event_ids] + [room.state[CREATE]]
    _auth_error(version, lambda: check_auth_events(event, auth), "3.2")


@pytest.mark.parametrize("version", ALL)
def test_rule_x_3_rejected_auth_event(version: RoomVersion) -> None:
    room = standard_room(version)
    event = room.make("m.room.message", USER, {"body": "hi"})
    good = [room.events[i] for i in event.auth_event_ids]
    pl_event = room.state[PL]
    bad_pl = type(pl_event)(pl_event.pdu, version, event_id=pl_event.event_id, rejected=True)
    auth = [bad_pl if e.event_id == pl_event.event_id else e for e in good]
    n = top(version, "auth_events")
    _auth_error(version, lambda: check_auth_events(event, auth), f"{n}.3")


@pytest.mark.parametrize("version", V1_TO_V11)
def test_rule_2_4_no_create_event(version: RoomVersion) -> None:
    room = standard_room(version)
    event = room.make("m.room.message", USER, {"body": "hi"})
    auth = [room.events[i] for i in event.auth_event_ids if room.events[i].type != CREATE[0]]
    _auth_error(version, lambda: check_auth_events(event, auth), "2.4")


@pytest.mark.parametrize("version", ALL)
def test_rule_2_5_auth_event_from_another_room(version: RoomVersion) -> None:
    room = standard_room(version)
    other = RoomBuilder(version)
    other.create(BOB)
    other.member(BOB, "join")
    pl = other.send("m.room.power_levels", BOB, {"users_default": 0}, "")
    assert other.room_id != room.room_id
    event = room.make("m.room.message", USER, {"body": "hi"})
    auth = [pl if room.events[i].type == PL[0] else room.events[i] for i in event.auth_event_ids]
    rule = "3.4" if version.room_id_from_create_event else "2.5"
    _auth_error(version, lambda: check_auth_events(event, auth), rule)


@pytest.mark.parametrize("version", ALL)
def test_auth_events_of_a_restricted_join_may_name_the_authoriser(version: RoomVersion) -> None:
    room = standard_room(version, "invite")
    content = {"membership": "join", "join_authorised_via_users_server": MOD}
    event = room.make("m.room.member", BOB, content, BOB, auth=None)
    auth = [room.events[i] for i in event.auth_event_ids] + [room.state[member(MOD)]]
    if version.restricted_join_rule:
        # the builder already selected MOD's membership, so this is now a duplicate
        _auth_error(
            version, lambda: check_auth_events(event, auth), f"{top(version, 'auth_events')}.1"
        )
        check_auth_events(event, auth[:-1])
    else:
        _auth_error(
            version, lambda: check_auth_events(event, auth), f"{top(version, 'auth_events')}.2"
        )
