"""m.room.member joins: the membership rule's `join` branch, restricted joins and the
join_authorised_via_users_server signature rule.

spec: rooms/v1 rule 5.2, v7 rule 4.2, v8 rules 4.2-4.3, v10 4.3.5, v11 4.3.1, v12 5.2-5.3.
"""

from __future__ import annotations

from typing import Any

import pytest

from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import RoomVersion

from .auth_expect import allowed, join, member, rejected, version_params
from .room_builder import (
    ADMIN,
    ALICE,
    BOB,
    CAROL,
    FAKE_SIGNATURE,
    MOD,
    USER,
    RoomBuilder,
    standard_room,
)

ALL = version_params()
KNOCK = version_params(lambda v: v.knock_join_rule)
NO_KNOCK = version_params(lambda v: not v.knock_join_rule)
RESTRICTED = version_params(lambda v: v.restricted_join_rule)
NO_RESTRICTED = version_params(lambda v: not v.restricted_join_rule)
KNOCK_RESTRICTED = version_params(lambda v: v.knock_restricted_join_rule)
V8_V9 = version_params(lambda v: v.restricted_join_rule and not v.knock_restricted_join_rule)


def _join(room: RoomBuilder, user: str, **content: object) -> Event:
    return room.make("m.room.member", user, {"membership": "join", **content}, user)


# -- 1: the creator's first join ------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_1_creator_joins_right_after_create(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.create()
    # no join rules, no power levels: only rule x.1 can allow this
    allowed(_join(room, ALICE), room.state)


@pytest.mark.parametrize("version", ALL)
def test_1_other_user_cannot_use_the_creator_rule(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.create()
    # no join rules event: the room is invite-only and BOB is not invited
    rejected(_join(room, BOB), room.state, join(version, "otherwise"))


@pytest.mark.parametrize("version", ALL)
def test_1_creator_rule_needs_the_create_as_only_prev_event(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.create()
    room.add(room.make("m.room.message", ALICE, {"body": "x"}), check=False)
    rejected(_join(room, ALICE), room.state, join(version, "otherwise"))


@pytest.mark.parametrize("version", version_params(lambda v: not v.implicit_room_creator))
def test_1_creator_is_content_creator_up_to_v10(version: RoomVersion) -> None:
    # spec: v1-v10 "the state_key is the creator" (content.creator)
    room = RoomBuilder(version)
    room.create(ALICE, {"creator": BOB, "room_version": version.identifier})
    allowed(_join(room, BOB), room.state)
    rejected(_join(room, ALICE), room.state, join(version, "otherwise"))


@pytest.mark.parametrize("version", version_params(lambda v: v.implicit_room_creator))
def test_1_creator_is_create_sender_from_v11(version: RoomVersion) -> None:
    # spec: v11 rule 4.3.1 "the state_key is the sender of the m.room.create"
    room = RoomBuilder(version)
    room.create(ALICE, {"creator": BOB, "room_version": version.identifier})
    allowed(_join(room, ALICE), room.state)
    rejected(_join(room, BOB), room.state, join(version, "otherwise"))


# -- 2, 3: only for oneself, not when banned --------------------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_2_cannot_join_for_someone_else(version: RoomVersion) -> None:
    room = standard_room(version)
    event = room.make("m.room.member", USER, {"membership": "join"}, BOB)
    rejected(event, room.state, join(version, 2))


@pytest.mark.parametrize("version", ALL)
def test_3_banned_user_cannot_join_public_room(version: RoomVersion) -> None:
    room = standard_room(version)
    allowed(_join(room, BOB), room.state)
    room.member(MOD, "ban", BOB)
    rejected(_join(room, BOB), room.state, join(version, 3))


# -- 4: invite (and knock) join rules ---------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_4_invite_rule_needs_an_invite(version: RoomVersion) -> None:
    room = standard_room(version, "invite")
    rejected(_join(room, BOB), room.state, join(version, "otherwise"))
    room.member(USER, "invite", BOB)
    allowed(_join(room, BOB), room.state)
    # already joined: joining again (e.g. a profile change) is allowed
    allowed(_join(room, USER, displayname="U"), room.state)


@pytest.mark.parametrize("version", KNOCK)
def test_4_knock_rule_allows_invited_users(version: RoomVersion) -> None:
    room = standard_room(version, "knock")
    rejected(_join(room, BOB), room.state, join(version, "otherwise"))
    room.member(BOB, "knock")
    rejected(_join(room, BOB), room.state, join(version, "otherwise"))
    room.member(USER, "invite", BOB)
    allowed(_join(room, BOB), room.state)


@pytest.mark.parametrize("version", NO_KNOCK)
def test_knock_join_rule_is_unknown_before_v7(version: RoomVersion) -> None:
    room = standard_room(version, "knock")
    room.member(USER, "invite", BOB)
    rejected(_join(room, BOB), room.state, join(version, "otherwise"))


# -- 5: restricted and knock_restricted -------------------------------------------------------


def _restricted_room(version: RoomVersion, rule: str = "restricted") -> RoomBuilder:
    allow = [{"type": "m.room_membership", "room_id": "!other:a.example"}]
    return standard_room(version, rule) if rule != "restricted" else _with_allow(version, allow)


def _with_allow(version: RoomVersion, allow: list[Any]) -> RoomBuilder:
    room = standard_room(version)
    room.set_join_rule("restricted", allow=allow)
    return room


def _authorised_join(room: RoomBuilder, user: str, authoriser: str) -> Event:
    server = authoriser.split(":", 1)[1]
    signatures = {user.split(":", 1)[1]: dict(FAKE_SIGNATURE), server: dict(FAKE_SIGNATURE)}
    content = {"membership": "join", "join_authorised_via_users_server": authoriser}
    return room.make("m.room.member", user, content, user, signatures=signatures)


@pytest.mark.parametrize("rule", ["restricted", "knock_restricted"])
@pytest.mark.parametrize("version", ALL)
def test_5_restricted_join(version: RoomVersion, rule: str) -> None:
    supported = (
        version.restricted_join_rule
        if rule == "restricted"
        else (version.knock_restricted_join_rule)
    )
    room = _restricted_room(version, rule)
    event = _authorised_join(room, BOB, MOD)
    if not supported:
        # spec: an unknown join rule allows nothing ("otherwise, reject")
        rejected(event, room.state, join(version, "otherwise"))
        return
    allowed(event, room.state)
    # 5.2: no authoriser
    rejected(_join(room, BOB), room.state, join(version, "5.2"))
    # 5.2: the authoriser is not joined
    rejected(_authorised_join(room, BOB, CAROL), room.state, join(version, "5.2"))
    # 5.1: invited users need no authoriser
    room.member(USER, "invite", BOB)
    allowed(_join(room, BOB), room.state)


@pytest.mark.parametrize("version", RESTRICTED)
def test_5_2_authoriser_needs_invite_power(version: RoomVersion) -> None:
    room = _restricted_room(version)
    room.send("m.room.power_levels", ALICE, room.power_levels_content(invite=60), "")
    rejected(_authorised_join(room, BOB, MOD), room.state, join(version, "5.2"))
    allowed(_authorised_join(room, BOB, ADMIN), room.state)


@pytest.mark.parametrize("version", version_params(lambda v: v.privileged_creators))
def test_5_2_v12_creator_always_has_invite_power(version: RoomVersion) -> None:
    room = _restricted_room(version)
    room.send("m.room.power_levels", ALICE, room.power_levels_content(invite=10**9), "")
    allowed(_authorised_join(room, BOB, ALICE), room.state)


@pytest.mark.parametrize("version", V8_V9)
def test_knock_restricted_unknown_in_v8_v9(version: RoomVersion) -> None:
    room = standard_room(version, "knock_restricted")
    rejected(_authorised_join(room, BOB, MOD), room.state, join(version, "otherwise"))


@pytest.mark.parametrize("version", RESTRICTED)
def test_authoriser_server_must_have_signed(version: RoomVersion) -> None:
    # spec: v8+ rule 4.2.1 "If the event is not validly signed by the homeserver of the
    # user ID denoted by the key, reject." (5.2.1 in v12)
    room = _restricted_room(version)
    content = {"membership": "join", "join_authorised_via_users_server": MOD}
    unsigned = room.make("m.room.member", BOB, content, BOB)  # signed by c.example only
    rejected(unsigned, room.state, member(version, "authoriser") + ".1")
    empty = room.make(
        "m.room.member",
        BOB,
        content,
        BOB,
        signatures={"c.example": dict(FAKE_SIGNATURE), "b.example": {}},
    )
    rejected(empty, room.state, member(version, "authoriser") + ".1")
    for bad in (5, None, "not-a-user"):
        garbage = room.make(
            "m.room.member",
            BOB,
            {"membership": "join", "join_authorised_via_users_server": bad},
            BOB,
        )
        rejected(garbage, room.state, member(version, "authoriser") + ".1")


@pytest.mark.parametrize("version", RESTRICTED)
def test_authoriser_signature_rule_applies_to_every_membership(version: RoomVersion) -> None:
    room = standard_room(version)
    content = {"membership": "leave", "join_authorised_via_users_server": MOD}
    leave = room.make("m.room.member", USER, content, USER)  # signed by b.example = MOD's
    allowed(leave, room.state)
    content = {"membership": "leave", "join_authorised_via_users_server": ADMIN}
    leave = room.make("m.room.member", USER, content, USER)
    rejected(leave, room.state, member(version, "authoriser") + ".1")


@pytest.mark.parametrize("version", NO_RESTRICTED)
def test_authoriser_key_means_nothing_before_v8(version: RoomVersion) -> None:
    room = standard_room(version)
    allowed(_join(room, BOB, join_authorised_via_users_server=ADMIN), room.state)


# -- 6, 7: public, anything else --------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_6_public_room_anyone_can_join(version: RoomVersion) -> None:
    room = standard_room(version)
    allowed(_join(room, BOB), room.state)


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("join_rule", ["private", "PUBLIC", "", "knock_restricted_v2"])
def test_7_other_join_rules_reject(version: RoomVersion, join_rule: str) -> None:
    room = standard_room(version, join_rule)
    rejected(_join(room, BOB), room.state, join(version, "otherwise"))


@pytest.mark.parametrize("version", ALL)
def test_7_malformed_join_rules_reject(version: RoomVersion) -> None:
    room = standard_room(version)
    room.send("m.room.join_rules", ALICE, {"join_rule": ["public"]}, "")
    rejected(_join(room, BOB), room.state, join(version, "otherwise"))
