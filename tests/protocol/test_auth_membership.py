"""m.room.member invite (without third_party_invite), leave, ban, knock, unknown.

spec: rooms/v1 rule 5.1, 5.3-5.6; v7 rule 4.6 (knock); v8 4.4-4.8; v12 5.4-5.8.
"""

from __future__ import annotations

from typing import Any

import pytest

from homeserver.protocol.room_versions import RoomVersion

from .auth_expect import allowed, member, rejected, version_params
from .room_builder import ADMIN, ALICE, BOB, CAROL, MOD, USER, RoomBuilder, standard_room

ALL = version_params()
KNOCK = version_params(lambda v: v.knock_join_rule)
NO_KNOCK = version_params(lambda v: not v.knock_join_rule)


def _member(room: RoomBuilder, sender: str, membership: str, target: str) -> Any:
    return room.make("m.room.member", sender, {"membership": membership}, target)


# -- 1: shape ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_1_member_event_needs_state_key_and_membership(version: RoomVersion) -> None:
    room = standard_room(version)
    no_key = room.make("m.room.member", BOB, {"membership": "join"})
    rejected(no_key, room.state, f"{member(version, 'join').split('.')[0]}.1")
    no_membership = room.make("m.room.member", BOB, {"displayname": "B"}, BOB)
    rejected(no_membership, room.state, f"{member(version, 'join').split('.')[0]}.1")


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("membership", ["dance", "JOIN", None, 1, ["join"], {"a": 1}])
def test_unknown_membership_is_rejected(version: RoomVersion, membership: object) -> None:
    room = standard_room(version)
    event = room.make("m.room.member", USER, {"membership": membership}, USER)
    rejected(event, room.state, member(version, "unknown"))


# -- invite -----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_invite_2_sender_must_be_joined(version: RoomVersion) -> None:
    room = standard_room(version)
    rejected(_member(room, BOB, "invite", CAROL), room.state, member(version, "invite") + ".2")
    allowed(_member(room, USER, "invite", CAROL), room.state)


@pytest.mark.parametrize("version", ALL)
def test_invite_3_target_joined_or_banned(version: RoomVersion) -> None:
    room = standard_room(version)
    rejected(_member(room, USER, "invite", MOD), room.state, member(version, "invite") + ".3")
    room.member(MOD, "ban", BOB)
    rejected(_member(room, USER, "invite", BOB), room.state, member(version, "invite") + ".3")
    # invited or left targets may be invited (again)
    room.member(USER, "invite", CAROL)
    allowed(_member(room, USER, "invite", CAROL), room.state)


@pytest.mark.parametrize("version", ALL)
def test_invite_4_5_invite_level(version: RoomVersion) -> None:
    room = standard_room(version)
    room.send("m.room.power_levels", ALICE, room.power_levels_content(invite=50), "")
    rejected(_member(room, USER, "invite", BOB), room.state, member(version, "invite") + ".5")
    allowed(_member(room, MOD, "invite", BOB), room.state)


@pytest.mark.parametrize("version", ALL)
def test_invite_without_power_levels_event(version: RoomVersion) -> None:
    # spec: client-server m.room.power_levels — without the event, invite needs 0
    room = RoomBuilder(version)
    room.create()
    room.member(ALICE, "join")
    allowed(_member(room, ALICE, "invite", BOB), room.state)


# -- leave ------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_leave_1_self_leave(version: RoomVersion) -> None:
    room = standard_room(version)
    leave = member(version, "leave")
    allowed(_member(room, USER, "leave", USER), room.state)
    rejected(_member(room, BOB, "leave", BOB), room.state, leave + ".1")  # never joined
    room.member(USER, "invite", BOB)
    allowed(_member(room, BOB, "leave", BOB), room.state)  # rejecting an invite
    room.member(MOD, "ban", CAROL)
    rejected(_member(room, CAROL, "leave", CAROL), room.state, leave + ".1")  # banned
    room.member(USER, "leave")
    rejected(_member(room, USER, "leave", USER), room.state, leave + ".1")  # already left


@pytest.mark.parametrize("version", KNOCK)
def test_leave_1_knock_can_be_withdrawn_from_v7(version: RoomVersion) -> None:
    room = standard_room(version, "knock")
    room.member(BOB, "knock")
    allowed(_member(room, BOB, "leave", BOB), room.state)


@pytest.mark.parametrize("version", ALL)
def test_leave_2_kicker_must_be_joined(version: RoomVersion) -> None:
    room = standard_room(version)
    room.member(MOD, "leave")
    rejected(_member(room, MOD, "leave", USER), room.state, member(version, "leave") + ".2")


@pytest.mark.parametrize("version", ALL)
def test_leave_3_unban_needs_ban_level(version: RoomVersion) -> None:
    room = standard_room(version)
    room.member(ADMIN, "ban", BOB)
    allowed(_member(room, MOD, "leave", BOB), room.state)
    room.send("m.room.power_levels", ALICE, room.power_levels_content(ban=75), "")
    rejected(_member(room, MOD, "leave", BOB), room.state, member(version, "leave") + ".3")
    allowed(_member(room, ADMIN, "leave", BOB), room.state)


@pytest.mark.parametrize("version", ALL)
def test_leave_4_5_kick(version: RoomVersion) -> None:
    room = standard_room(version)
    leave = member(version, "leave")
    allowed(_member(room, MOD, "leave", USER), room.state)
    rejected(_member(room, USER, "leave", MOD), room.state, leave + ".5")  # below kick level
    rejected(_member(room, MOD, "leave", ADMIN), room.state, leave + ".5")  # target above
    room.send("m.room.power_levels", ALICE, room.power_levels_content(kick=0, users_default=50), "")
    rejected(_member(room, MOD, "leave", USER), room.state, leave + ".5")  # equal levels


@pytest.mark.parametrize("version", ALL)
def test_kick_between_equal_admins(version: RoomVersion) -> None:
    # v1-v11: ALICE (100) cannot kick ADMIN (100); v12: creators have infinite power.
    room = standard_room(version)
    event = _member(room, ALICE, "leave", ADMIN)
    if version.privileged_creators:
        allowed(event, room.state)
    else:
        rejected(event, room.state, member(version, "leave") + ".5")
    # nobody can kick a v12 creator
    event = _member(room, ADMIN, "leave", ALICE)
    rejected(event, room.state, member(version, "leave") + ".5")


@pytest.mark.parametrize("version", version_params(lambda v: v.privileged_creators))
def test_v12_additional_creators_have_infinite_power(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.create(ALICE, room.create_content(additional_creators=[BOB]))
    room.member(ALICE, "join")
    room.send("m.room.power_levels", ALICE, {"users": {ADMIN: 100}, "kick": 10**6}, "")
    room.send("m.room.join_rules", ALICE, {"join_rule": "public"}, "")
    room.member(BOB, "join")
    room.member(ADMIN, "join")
    allowed(_member(room, BOB, "leave", ADMIN), room.state)
    rejected(_member(room, ADMIN, "leave", BOB), room.state, member(version, "leave") + ".5")
    rejected(_member(room, BOB, "leave", ALICE), room.state, member(version, "leave") + ".5")


# -- ban --------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_ban_1_banner_must_be_joined(version: RoomVersion) -> None:
    room = standard_room(version)
    room.member(MOD, "leave")
    rejected(_member(room, MOD, "ban", USER), room.state, member(version, "ban") + ".1")


@pytest.mark.parametrize("version", ALL)
def test_ban_2_3_ban_level_and_target_level(version: RoomVersion) -> None:
    room = standard_room(version)
    ban = member(version, "ban")
    allowed(_member(room, MOD, "ban", USER), room.state)
    allowed(_member(room, MOD, "ban", BOB), room.state)  # not in the room: fine
    rejected(_member(room, USER, "ban", BOB), room.state, ban + ".3")
    rejected(_member(room, MOD, "ban", ADMIN), room.state, ban + ".3")
    rejected(_member(room, MOD, "ban", MOD), room.state, ban + ".3")


# -- knock ------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", NO_KNOCK)
def test_knock_is_an_unknown_membership_before_v7(version: RoomVersion) -> None:
    room = standard_room(version, "knock")
    rejected(_member(room, BOB, "knock", BOB), room.state, member(version, "unknown"))


@pytest.mark.parametrize("version", KNOCK)
def test_knock_1_join_rule_must_be_knock(version: RoomVersion) -> None:
    knock = member(version, "knock")
    for join_rule in ("public", "invite", "restricted", "private"):
        room = standard_room(version, join_rule)
        rejected(_member(room, BOB, "knock", BOB), room.state, knock + ".1")
    room = standard_room(version, "knock_restricted")
    event = _member(room, BOB, "knock", BOB)
    if version.knock_restricted_join_rule:
        allowed(event, room.state)
    else:
        rejected(event, room.state, knock + ".1")


@pytest.mark.parametrize("version", KNOCK)
def test_knock_2_only_for_oneself(version: RoomVersion) -> None:
    room = standard_room(version, "knock")
    rejected(_member(room, USER, "knock", BOB), room.state, member(version, "knock") + ".2")


@pytest.mark.parametrize("version", KNOCK)
def test_knock_3_4_current_membership(version: RoomVersion) -> None:
    room = standard_room(version, "knock")
    knock = member(version, "knock")
    allowed(_member(room, BOB, "knock", BOB), room.state)
    rejected(_member(room, USER, "knock", USER), room.state, knock + ".4")  # joined
    room.member(USER, "invite", BOB)
    rejected(_member(room, BOB, "knock", BOB), room.state, knock + ".4")  # invited
    room.member(MOD, "ban", CAROL)
    rejected(_member(room, CAROL, "knock", CAROL), room.state, knock + ".4")  # banned
    room.member(USER, "leave")
    allowed(_member(room, USER, "knock", USER), room.state)  # left: may knock again
