"""The m.room.power_levels rule, stringy (v1-v9) and floaty (v1-v5) values, integers only
from v10, `notifications` from v6, creators from v12.

spec: rooms/v1 rule 10, v6 rule 9, v10 rule 9, v12 rule 10;
rooms/fragments/v1-stringy-power-levels, v1-floaty-power-levels.
"""

from __future__ import annotations

from typing import Any

import pytest

from homeserver.protocol.room_versions import RoomVersion

from .auth_expect import allowed, pl, rejected, version_params
from .room_builder import ADMIN, ALICE, BOB, MOD, USER, RoomBuilder, standard_room

ALL = version_params()
STRINGY = version_params(lambda v: v.stringy_power_levels)
FLOATY = version_params(lambda v: v.floaty_power_levels)
INT_ONLY = version_params(lambda v: v.enforce_int_power_levels)
NOTIFICATIONS = version_params(lambda v: v.limit_notifications_power_levels)
NO_NOTIFICATIONS = version_params(lambda v: not v.limit_notifications_power_levels)
V12 = version_params(lambda v: v.privileged_creators)


def _pl(room: RoomBuilder, sender: str, **changes: Any) -> Any:
    return room.make("m.room.power_levels", sender, room.power_levels_content(**changes), "")


def _room(version: RoomVersion) -> RoomBuilder:
    room = standard_room(version)
    # MOD may send power levels (m.room.power_levels needs 50 here) to test the rule itself
    room.send(
        "m.room.power_levels",
        ALICE,
        room.power_levels_content(events={"m.room.power_levels": 50, "m.room.name": 50}),
        "",
    )
    return room


def _mod_pl(room: RoomBuilder, **changes: Any) -> Any:
    changes.setdefault("events", {"m.room.power_levels": 50, "m.room.name": 50})
    return _pl(room, MOD, **changes)


# -- v10+: 1 and 2 (integers only) --------------------------------------------------------------


@pytest.mark.parametrize("version", INT_ONLY)
@pytest.mark.parametrize(
    "key", ["users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"]
)
@pytest.mark.parametrize("value", ["50", 50.0, True, None, [50]])
def test_v10_1_scalars_must_be_integers(version: RoomVersion, key: str, value: Any) -> None:
    room = RoomBuilder(version)
    room.create()
    room.member(ALICE, "join")
    # no previous power levels: the type checks still apply (they come before rule .4)
    event = room.make("m.room.power_levels", ALICE, {key: value}, "")
    rejected(event, room.state, pl(version, "scalars_int"))
    allowed(room.make("m.room.power_levels", ALICE, {key: 7}, ""), room.state)


@pytest.mark.parametrize("version", INT_ONLY)
@pytest.mark.parametrize("key", ["events", "notifications"])
@pytest.mark.parametrize("value", [{"x": "50"}, {"x": 1.5}, {"x": None}, [1], 5])
def test_v10_2_events_and_notifications_integer_maps(
    version: RoomVersion, key: str, value: Any
) -> None:
    room = standard_room(version)
    rejected(_pl(room, ALICE, **{key: value}), room.state, pl(version, "maps_int"))
    allowed(_pl(room, ALICE, **{key: {"x": 1}}), room.state)


# -- users: shape ------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize(
    "users",
    [
        [],
        "x",
        {"not-a-user": 1},
        {"@nodomain": 1},
        {"@a:bad_domain!": 1},
        {BOB: "high"},
        {BOB: None},
        {BOB: True},
    ],
)
def test_users_must_map_user_ids_to_levels(version: RoomVersion, users: Any) -> None:
    room = standard_room(version)
    rejected(_pl(room, ALICE, users=users), room.state, pl(version, "users"))


@pytest.mark.parametrize("version", STRINGY)
@pytest.mark.parametrize("value", ["10", " +10 ", "0010", "-5"])
def test_stringy_user_levels_up_to_v9(version: RoomVersion, value: str) -> None:
    room = standard_room(version)
    users = dict(room.power_levels_content()["users"], **{BOB: value})
    allowed(_pl(room, ALICE, users=users), room.state)


@pytest.mark.parametrize("version", INT_ONLY)
def test_stringy_user_levels_rejected_from_v10(version: RoomVersion) -> None:
    room = standard_room(version)
    users = dict(room.power_levels_content()["users"], **{BOB: "10"})
    rejected(_pl(room, ALICE, users=users), room.state, pl(version, "users"))


@pytest.mark.parametrize("version", ALL)
def test_float_user_levels_only_up_to_v5(version: RoomVersion) -> None:
    room = standard_room(version)
    users = dict(room.power_levels_content()["users"], **{BOB: 10.7})
    event = _pl(room, ALICE, users=users)
    if version.floaty_power_levels:
        allowed(event, room.state)
    else:
        rejected(
            event,
            room.state,
            pl(version, "users"),
        )


@pytest.mark.parametrize("version", ALL)
def test_users_may_be_absent(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.create()
    room.member(ALICE, "join")
    own = {} if version.privileged_creators else {ALICE: 100}
    room.send("m.room.power_levels", ALICE, {"users": own}, "")
    # removing one's own entry is allowed (spec: "other than the sender's own entry")
    allowed(room.make("m.room.power_levels", ALICE, {"ban": 60}, ""), room.state)


# -- v12: creators ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", V12)
def test_v12_4_users_must_not_contain_creators(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.create(ALICE, room.create_content(additional_creators=[BOB]))
    room.member(ALICE, "join")
    for users in ({ALICE: 100}, {BOB: 0}, {ADMIN: 100, BOB: 100}):
        event = room.make("m.room.power_levels", ALICE, {"users": users}, "")
        rejected(event, room.state, pl(version, "creators"))
    allowed(room.make("m.room.power_levels", ALICE, {"users": {ADMIN: 100}}, ""), room.state)


@pytest.mark.parametrize("version", version_params(lambda v: not v.privileged_creators))
def test_creator_may_be_listed_before_v12(version: RoomVersion) -> None:
    room = standard_room(version)
    allowed(_pl(room, ALICE, users={ALICE: 100, ADMIN: 100, MOD: 40}), room.state)


# -- no previous power levels ------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_first_power_levels_event_is_allowed(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.create()
    room.member(ALICE, "join")
    content = {"users": {BOB: 10**6}, "ban": 10**6, "events": {"m.room.power_levels": 10**6}}
    allowed(room.make("m.room.power_levels", ALICE, content, ""), room.state)


# -- scalars --------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize(
    "key", ["users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"]
)
def test_scalar_changes(version: RoomVersion, key: str) -> None:
    room = _room(version)
    n = pl(version, "scalars")
    allowed(_mod_pl(room, **{key: 40}), room.state)  # changed, both <= 50
    allowed(_mod_pl(room, **{key: 50}), room.state)
    rejected(_mod_pl(room, **{key: 51}), room.state, n + ".2")  # new value above
    room.send(
        "m.room.power_levels",
        ADMIN,
        room.power_levels_content(events={"m.room.power_levels": 50}, **{key: 60}),
        "",
    )
    rejected(_mod_pl(room, **{key: 10}), room.state, n + ".1")  # current value above
    content = room.power_levels_content(events={"m.room.power_levels": 50})
    del content[key]
    rejected(room.make("m.room.power_levels", MOD, content, ""), room.state, n + ".1")  # removal
    allowed(_mod_pl(room, **{key: 60}), room.state)  # no change at all


@pytest.mark.parametrize("version", ALL)
def test_adding_a_scalar_checks_only_the_new_value(version: RoomVersion) -> None:
    room = _room(version)
    content = room.power_levels_content(events={"m.room.power_levels": 50})
    del content["invite"]
    room.send("m.room.power_levels", ALICE, content, "")
    allowed(_mod_pl(room, invite=50), room.state)
    rejected(_mod_pl(room, invite=51), room.state, pl(version, "scalars") + ".2")


@pytest.mark.parametrize("version", STRINGY)
def test_stringy_scalar_equal_to_int_is_no_change(version: RoomVersion) -> None:
    room = _room(version)
    room.send(
        "m.room.power_levels",
        ADMIN,
        room.power_levels_content(events={"m.room.power_levels": 50}, ban=" 0100 "),
        "",
    )
    allowed(_mod_pl(room, ban=100), room.state)
    rejected(_mod_pl(room, ban="99"), room.state, pl(version, "scalars") + ".1")
    rejected(_mod_pl(room, ban="lots"), room.state, pl(version, "scalars"))


@pytest.mark.parametrize("version", FLOATY)
def test_floats_are_truncated_up_to_v5(version: RoomVersion) -> None:
    room = _room(version)
    allowed(_mod_pl(room, ban=50.9), room.state)  # 50: no change
    rejected(_mod_pl(room, ban=51.0), room.state, pl(version, "scalars") + ".2")
    allowed(_mod_pl(room, ban=5.0e1), room.state)


@pytest.mark.parametrize("version", FLOATY)
@pytest.mark.parametrize("where", ["ban", "users", "events", "notifications"])
@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_floats_reject_even_the_first_event(
    version: RoomVersion, where: str, value: float
) -> None:
    # spec: rooms/fragments/v1-floaty-power-levels — Infinity, -Infinity and NaN (and
    # values beyond binary64, which JSON parsers turn into infinities) reject the event.
    room = RoomBuilder(version)
    room.create()
    room.member(ALICE, "join")
    content: dict[str, Any] = {where: value} if where == "ban" else {where: {"x": value}}
    if where == "users":
        content = {"users": {BOB: value}}
    rejected(
        room.make("m.room.power_levels", ALICE, content, ""),
        room.state,
        pl(version, "users").split(".")[0],
    )


# -- events and notifications ----------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_events_changes(version: RoomVersion) -> None:
    room = _room(version)
    base = {"m.room.power_levels": 50, "m.room.name": 50}
    allowed(_mod_pl(room, events={**base, "m.room.topic": 50}), room.state)  # added, = level
    rejected(
        _mod_pl(room, events={**base, "m.room.topic": 51}), room.state, pl(version, "maps_added")
    )
    room.send(
        "m.room.power_levels",
        ADMIN,
        room.power_levels_content(events={**base, "m.room.topic": 75}),
        "",
    )
    rejected(
        _mod_pl(room, events={**base, "m.room.topic": 0}), room.state, pl(version, "maps_removed")
    )
    rejected(_mod_pl(room, events=base), room.state, pl(version, "maps_removed"))
    allowed(_mod_pl(room, events={**base, "m.room.topic": 75}), room.state)


@pytest.mark.parametrize("version", NOTIFICATIONS)
def test_notifications_changes_from_v6(version: RoomVersion) -> None:
    room = _room(version)
    allowed(_mod_pl(room, notifications={"room": 50}), room.state)
    rejected(_mod_pl(room, notifications={"room": 51}), room.state, pl(version, "maps_added"))
    room.send(
        "m.room.power_levels",
        ADMIN,
        room.power_levels_content(events={"m.room.power_levels": 50}, notifications={"room": 80}),
        "",
    )
    rejected(_mod_pl(room, notifications={"room": 10}), room.state, pl(version, "maps_removed"))
    rejected(_mod_pl(room), room.state, pl(version, "maps_removed"))


@pytest.mark.parametrize("version", NO_NOTIFICATIONS)
def test_notifications_unchecked_before_v6(version: RoomVersion) -> None:
    room = _room(version)
    allowed(_mod_pl(room, notifications={"room": 100}), room.state)
    allowed(_mod_pl(room, notifications="garbage"), room.state)


# -- users ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ALL)
def test_users_changes(version: RoomVersion) -> None:
    room = _room(version)
    users = room.power_levels_content()["users"]
    removed, added = pl(version, "users_removed"), pl(version, "users_added")
    allowed(_mod_pl(room, users={**users, BOB: 50}), room.state)  # add at own level
    rejected(_mod_pl(room, users={**users, BOB: 51}), room.state, added)
    allowed(_mod_pl(room, users={**users, USER: 10}), room.state)
    rejected(_mod_pl(room, users={**users, ADMIN: 10}), room.state, removed)  # current above
    without_admin = {k: v for k, v in users.items() if k != ADMIN}
    rejected(_mod_pl(room, users=without_admin), room.state, removed)
    # own entry: may lower it, not raise it
    allowed(_mod_pl(room, users={**users, MOD: 10}), room.state)
    rejected(_mod_pl(room, users={**users, MOD: 51}), room.state, added)


@pytest.mark.parametrize("version", ALL)
def test_users_equal_level_cannot_be_changed(version: RoomVersion) -> None:
    room = _room(version)
    users = room.power_levels_content()["users"]
    room.send(
        "m.room.power_levels",
        ALICE,
        room.power_levels_content(events={"m.room.power_levels": 50}, users={**users, BOB: 50}),
        "",
    )
    rejected(_mod_pl(room, users={**users, BOB: 0}), room.state, pl(version, "users_removed"))


@pytest.mark.parametrize("version", V12)
def test_v12_creator_may_set_any_level(version: RoomVersion) -> None:
    room = standard_room(version)
    allowed(_pl(room, ALICE, users={ADMIN: 2**53 - 1}, ban=2**53 - 1), room.state)
