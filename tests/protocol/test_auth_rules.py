"""The top-level rules other than create, membership and power levels: v12 rule 2, the
create event in the state, m.federate, m.room.aliases (v1-v5), sender joined, required
power level, '@' state keys, v1/v2 redactions, and the final "otherwise, allow".

spec: rooms/v1 rules 2-4, 6, 8, 9, 11, 12; v3 (no rule 11); v6 (no aliases rule);
v12 rules 2, 4, 6, 8, 9, 11.
"""

from __future__ import annotations

import pytest

from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import RoomVersion

from .auth_expect import allowed, rejected, top, version_params
from .room_builder import ALICE, BOB, MOD, USER, RoomBuilder, standard_room

ALL = version_params()
V12 = version_params(lambda v: v.room_id_from_create_event)
V1_TO_V11 = version_params(lambda v: not v.room_id_from_create_event)
ALIASES = version_params(lambda v: v.special_case_aliases_auth)
NO_ALIASES = version_params(lambda v: not v.special_case_aliases_auth)
V1_V2 = version_params(lambda v: v.redaction_auth_rule)
V3_PLUS = version_params(lambda v: not v.redaction_auth_rule)

CREATE = ("m.room.create", "")


def _message(room: RoomBuilder, sender: str = USER, **kwargs: object) -> Event:
    return room.make("m.room.message", sender, {"body": "hi"}, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("version", ALL)
def test_final_rule_allows_a_message(version: RoomVersion) -> None:
    room = standard_room(version)
    allowed(_message(room), room.state)


# -- the create event in the state -------------------------------------------------------


@pytest.mark.parametrize("version", V1_TO_V11)
def test_2_4_no_create_event_in_state(version: RoomVersion) -> None:
    room = standard_room(version)
    state = {k: v for k, v in room.state.items() if k != CREATE}
    rejected(_message(room), state, "2.4")


@pytest.mark.parametrize("version", V12)
def test_v12_2_no_create_event_in_state(version: RoomVersion) -> None:
    room = standard_room(version)
    state = {k: v for k, v in room.state.items() if k != CREATE}
    rejected(_message(room), state, "2")


@pytest.mark.parametrize("version", V12)
def test_v12_2_room_id_must_be_the_create_event_id(version: RoomVersion) -> None:
    room = standard_room(version)
    event = _message(room, room_id="!" + "B" * 43)
    rejected(event, room.state, "2")
    other = RoomBuilder(version)
    other.create(BOB)
    state = dict(room.state)
    state[CREATE] = other.state[CREATE]
    rejected(_message(room), state, "2")


@pytest.mark.parametrize("version", V12)
def test_v12_2_create_event_must_not_be_rejected(version: RoomVersion) -> None:
    room = standard_room(version)
    create = room.state[CREATE]
    state = dict(room.state)
    state[CREATE] = Event(create.pdu, version, event_id=create.event_id, rejected=True)
    rejected(_message(room), state, "2")


@pytest.mark.parametrize("version", ALL)
def test_state_events_from_another_room_count_for_nothing(version: RoomVersion) -> None:
    room = standard_room(version)
    other = RoomBuilder(version)
    other.create(BOB)
    other.member(BOB, "join")
    state = dict(room.state)
    state[("m.room.member", BOB)] = other.state[("m.room.member", BOB)]
    rule = "3.4" if version.room_id_from_create_event else "2.5"
    rejected(_message(room, BOB), state, rule)
    if not version.room_id_from_create_event:
        state = dict(room.state)
        state[CREATE] = other.state[CREATE]
        rejected(_message(room), state, "2.5")


# -- m.federate -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("federate", [False, True, None, "false", 0])
def test_m_federate(version: RoomVersion, federate: object) -> None:
    room = RoomBuilder(version)
    content = room.create_content()
    content["m.federate"] = federate
    room.create(ALICE, content)
    room.member(ALICE, "join")
    room.set_join_rule("public")
    same_server = "@other:a.example"
    allowed(
        room.make("m.room.member", same_server, {"membership": "join"}, same_server), room.state
    )
    join = room.make("m.room.member", BOB, {"membership": "join"}, BOB)
    if federate is False:  # only the JSON value false counts
        rejected(join, room.state, top(version, "federate"))
    else:
        allowed(join, room.state)


# -- m.room.aliases ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", ALIASES)
def test_aliases_authorized_by_sender_domain_up_to_v5(version: RoomVersion) -> None:
    room = standard_room(version)
    content = {"aliases": ["#x:c.example"]}
    # BOB is not even in the room; only the domain matters
    allowed(room.make("m.room.aliases", BOB, content, "c.example"), room.state)
    rejected(room.make("m.room.aliases", BOB, content, "a.example"), room.state, "4.2")
    rejected(room.make("m.room.aliases", BOB, content), room.state, "4.1")


@pytest.mark.parametrize("version", NO_ALIASES)
def test_aliases_are_ordinary_state_from_v6(version: RoomVersion) -> None:
    room = standard_room(version)
    content = {"aliases": ["#x:c.example"]}
    rejected(
        room.make("m.room.aliases", BOB, content, "c.example"), room.state, top(version, "joined")
    )
    # USER (level 0) is below state_default 50
    event = room.make("m.room.aliases", USER, content, "b.example")
    rejected(event, room.state, top(version, "required"))
    allowed(room.make("m.room.aliases", MOD, content, "a.example"), room.state)


# -- sender joined, required power level, '@' state keys -------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_sender_must_be_joined(version: RoomVersion) -> None:
    room = standard_room(version)
    rejected(_message(room, BOB), room.state, top(version, "joined"))
    room.member(USER, "invite", BOB)
    rejected(_message(room, BOB), room.state, top(version, "joined"))
    room.member(USER, "leave")
    rejected(_message(room, USER), room.state, top(version, "joined"))


@pytest.mark.parametrize("version", ALL)
def test_required_power_level(version: RoomVersion) -> None:
    room = standard_room(version)
    n = top(version, "required")
    # state_default 50
    rejected(room.make("m.room.topic", USER, {"topic": "t"}, ""), room.state, n)
    allowed(room.make("m.room.topic", MOD, {"topic": "t"}, ""), room.state)
    # events[...] overrides the defaults
    rejected(room.make("m.room.name", USER, {"name": "n"}, ""), room.state, n)
    rejected(room.make("m.room.power_levels", MOD, room.power_levels_content(), ""), room.state, n)
    # events_default for messages
    room.send("m.room.power_levels", ALICE, room.power_levels_content(events_default=10), "")
    rejected(_message(room, USER), room.state, n)
    allowed(_message(room, MOD), room.state)
    # a message type listed in events
    events = {"m.room.power_levels": 100, "m.room.message": 0}
    room.send(
        "m.room.power_levels",
        ALICE,
        room.power_levels_content(events_default=10, events=events),
        "",
    )
    allowed(_message(room, USER), room.state)


@pytest.mark.parametrize("version", ALL)
def test_required_power_level_without_power_levels_event(version: RoomVersion) -> None:
    # spec: client-server m.room.power_levels — no event: state_default is 0
    room = RoomBuilder(version)
    room.create()
    room.member(ALICE, "join")
    room.set_join_rule("public")
    room.member(USER, "join")
    allowed(room.make("m.room.topic", USER, {"topic": "t"}, ""), room.state)


@pytest.mark.parametrize("version", ALL)
def test_state_key_starting_with_at_must_be_sender(version: RoomVersion) -> None:
    room = standard_room(version)
    n = top(version, "state_key")
    allowed(room.make("m.custom", MOD, {}, MOD), room.state)
    rejected(room.make("m.custom", MOD, {}, USER), room.state, n)
    rejected(room.make("m.custom", MOD, {}, "@"), room.state, n)
    allowed(room.make("m.custom", MOD, {}, "x@y"), room.state)


# -- redactions -------------------------------------------------------------------------------


def _redaction(room: RoomBuilder, sender: str, redacts: str | None) -> Event:
    if room.version.redacts_in_content:
        content = {} if redacts is None else {"redacts": redacts}
        return room.make("m.room.redaction", sender, content)
    extra = {} if redacts is None else {"redacts": redacts}
    return room.make("m.room.redaction", sender, {}, extra=extra)


@pytest.mark.parametrize("version", V1_V2)
def test_11_v1_v2_redaction_rule(version: RoomVersion) -> None:
    room = standard_room(version)
    own = room.send("m.room.message", USER, {"body": "x"})  # $n:b.example
    theirs = room.send("m.room.message", ALICE, {"body": "x"})  # $n:a.example
    allowed(_redaction(room, USER, own.event_id), room.state)  # same domain
    allowed(_redaction(room, MOD, theirs.event_id), room.state)  # redact level 50
    rejected(_redaction(room, USER, theirs.event_id), room.state, "11.3")
    rejected(_redaction(room, USER, None), room.state, "11.3")


@pytest.mark.parametrize("version", V3_PLUS)
def test_redactions_are_ordinary_events_from_v3(version: RoomVersion) -> None:
    # spec: v3+ "the redact level is not considered by the auth rules"
    room = standard_room(version)
    theirs = room.send("m.room.message", ALICE, {"body": "x"})
    allowed(_redaction(room, USER, theirs.event_id), room.state)
    room.send(
        "m.room.power_levels",
        ALICE,
        room.power_levels_content(events={"m.room.power_levels": 100, "m.room.redaction": 50}),
        "",
    )
    rejected(_redaction(room, USER, theirs.event_id), room.state, top(version, "required"))
