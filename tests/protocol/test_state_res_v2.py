"""State resolution v2 (rooms v2-v11) and v2.1 (room v12): the classic conflicts.

Each test builds a room, forks it, sends concurrent events on the forks and resolves
the forks' states. The scenarios are the ones the v2 algorithm was designed for
(spec: rooms/fragments/v2-state-res): a ban beats a concurrent action of the banned
user, a demotion beats a concurrent action needing the old power, join rules beat a
concurrent join, and mainline ordering decides between non-power events.
"""

from __future__ import annotations

import pytest

from homeserver.protocol.room_versions import V2, V12, RoomVersion
from homeserver.protocol.state_res import resolve_state

from .test_state_res_room import (
    ALICE,
    BOB,
    CHARLIE,
    EVELYN,
    VERSIONS_V2_AND_V2_1,
    ZARA,
    ForkingRoom,
)

POWER = ("m.room.power_levels", "")
TOPIC = ("m.room.topic", "")
JOIN_RULES = ("m.room.join_rules", "")


def member(user: str) -> tuple[str, str]:
    return ("m.room.member", user)


def _room_with_mod(version: RoomVersion) -> tuple[ForkingRoom, dict[tuple[str, str], str]]:
    """Alice (creator, 100) and Bob (50, a moderator) joined, Charlie (0) joined."""
    room = ForkingRoom(version)
    main = room.start({BOB: 50})
    room.member(main, "IMB", BOB, "join")
    room.member(main, "IMC", CHARLIE, "join")
    return room, main


def _resolve_both_orders(
    room: ForkingRoom, *states: dict[tuple[str, str], str]
) -> dict[tuple[str, str], str]:
    result = resolve_state(room.version, list(states), room.fetch)
    assert resolve_state(room.version, list(states)[::-1], room.fetch) == result
    return result


@pytest.mark.parametrize("version", VERSIONS_V2_AND_V2_1)
def test_ban_beats_concurrent_power_levels_change_by_the_banned(version: RoomVersion) -> None:
    room, main = _room_with_mod(version)
    a, b = room.fork(main), room.fork(main)
    room.member(a, "MB", ALICE, "ban", BOB)
    room.power(b, "PB", BOB, {BOB: 50, CHARLIE: 50})
    result = _resolve_both_orders(room, a, b)
    assert room.name_of(result, member(BOB)) == "MB"
    # Bob's change is authorised by its own auth events but not once he is banned.
    assert room.name_of(result, POWER) == "IPOWER"
    assert room.name_of(result, member(CHARLIE)) == "IMC"


@pytest.mark.parametrize("version", VERSIONS_V2_AND_V2_1)
def test_join_rules_change_beats_concurrent_join(version: RoomVersion) -> None:
    room, main = _room_with_mod(version)
    a, b = room.fork(main), room.fork(main)
    room.join_rules(a, "JR", "invite")
    room.member(b, "ME", EVELYN, "join")
    result = _resolve_both_orders(room, a, b)
    assert room.name_of(result, JOIN_RULES) == "JR"
    # The join only passed because the room was public; it does not survive.
    assert member(EVELYN) not in result


@pytest.mark.parametrize("version", VERSIONS_V2_AND_V2_1)
def test_demotion_beats_concurrent_power_levels_change_by_the_demoted(
    version: RoomVersion,
) -> None:
    room, main = _room_with_mod(version)
    a, b = room.fork(main), room.fork(main)
    room.power(a, "PA", ALICE, {BOB: 0})
    room.power(b, "PB", BOB, {BOB: 50, CHARLIE: 50})
    result = _resolve_both_orders(room, a, b)
    assert room.name_of(result, POWER) == "PA"


@pytest.mark.parametrize("version", VERSIONS_V2_AND_V2_1)
def test_demotion_beats_concurrent_topic_by_the_demoted(version: RoomVersion) -> None:
    room, main = _room_with_mod(version)
    room.topic(main, "T1", ALICE)
    a, b = room.fork(main), room.fork(main)
    room.topic(a, "T2", ALICE)
    room.power(a, "PA", ALICE, {BOB: 0})
    room.topic(b, "T3", BOB)
    result = _resolve_both_orders(room, a, b)
    assert room.name_of(result, POWER) == "PA"
    assert room.name_of(result, TOPIC) == "T2"


@pytest.mark.parametrize("version", VERSIONS_V2_AND_V2_1)
def test_topic_resets_when_its_sender_is_banned(version: RoomVersion) -> None:
    # Fork a: Alice makes Bob a moderator, Bob sets the topic, Alice bans Bob.
    # Fork b: an older state with the first topic. Bob's topic needs his membership,
    # which the ban takes away, so the topic falls back to T1.
    room = ForkingRoom(version)
    main = room.start()
    room.member(main, "IMB", BOB, "join")
    room.topic(main, "T1", ALICE)
    a, b = room.fork(main), room.fork(main)
    room.power(a, "PA", ALICE, {BOB: 50})
    room.topic(a, "T2", BOB)
    room.member(a, "MB", ALICE, "ban", BOB)
    room.member(b, "IMZ", ZARA, "join")
    result = _resolve_both_orders(room, a, b)
    assert room.name_of(result, TOPIC) == "T1"
    assert room.name_of(result, POWER) == "PA"
    assert room.name_of(result, member(BOB)) == "MB"
    assert room.name_of(result, member(ZARA)) == "IMZ"


@pytest.mark.parametrize("version", VERSIONS_V2_AND_V2_1)
def test_mainline_position_beats_timestamp(version: RoomVersion) -> None:
    # Fork a: Alice makes power level changes need 100 (PA2), then Bob sets topic T3.
    # Fork b (from PA1): Bob changes the power levels (PB), then Alice sets topic T4,
    # with a later timestamp than T3. PB fails after PA2, so T4 hangs off an older
    # point of the mainline (PA1) than T3 (PA2): T4 is applied first and T3 wins.
    room, main = _room_with_mod(version)
    room.topic(main, "T1", ALICE)
    room.power(main, "PA1", ALICE, {BOB: 50})
    b = room.fork(main)
    a = main
    room.topic(a, "T2", ALICE)
    room.send(
        a,
        "PA2",
        "m.room.power_levels",
        "",
        ALICE,
        room.pl_content({BOB: 50}, events={"m.room.power_levels": 100}),
    )
    room.power(b, "PB", BOB, {BOB: 50, CHARLIE: 10})
    room.topic(a, "T3", BOB)
    room.topic(b, "T4", ALICE)
    assert (
        room.events[room.event_id("T4")].origin_server_ts
        > room.events[room.event_id("T3")].origin_server_ts
    )
    result = _resolve_both_orders(room, a, b)
    assert room.name_of(result, POWER) == "PA2"
    assert room.name_of(result, TOPIC) == "T3"


@pytest.mark.parametrize("version", VERSIONS_V2_AND_V2_1)
def test_higher_power_is_applied_first_so_compatible_lower_change_wins(
    version: RoomVersion,
) -> None:
    # spec: "Reverse topological power ordering" rule 1 — Alice's change is applied
    # first; Bob's still passes against it and, applied last, is the result.
    room, main = _room_with_mod(version)
    a, b = room.fork(main), room.fork(main)
    room.power(a, "PA", ALICE, {BOB: 50, ZARA: 10})
    room.power(b, "PB", BOB, {BOB: 50, EVELYN: 20})
    assert room.name_of(_resolve_both_orders(room, a, b), POWER) == "PB"


@pytest.mark.parametrize("version", VERSIONS_V2_AND_V2_1)
@pytest.mark.parametrize(("ts_b", "ts_c", "winner"), [(10, 11, "PC"), (11, 10, "PB")])
def test_equal_power_later_timestamp_is_applied_last(
    version: RoomVersion, ts_b: int, ts_c: int, winner: str
) -> None:
    # spec: "Reverse topological power ordering" rule 2.
    room = ForkingRoom(version)
    main = room.start({BOB: 50, CHARLIE: 50})
    room.member(main, "IMB", BOB, "join")
    room.member(main, "IMC", CHARLIE, "join")
    a, b = room.fork(main), room.fork(main)
    users = {BOB: 50, CHARLIE: 50}
    room.send(a, "PB", *POWER, BOB, room.pl_content({**users, ZARA: 10}), ts=1000 + ts_b)
    room.send(b, "PC", *POWER, CHARLIE, room.pl_content({**users, EVELYN: 20}), ts=1000 + ts_c)
    assert room.name_of(_resolve_both_orders(room, a, b), POWER) == winner


@pytest.mark.parametrize("version", VERSIONS_V2_AND_V2_1)
@pytest.mark.parametrize(("name_b", "name_c"), [("PX", "PY"), ("PY", "PX")])
def test_equal_power_and_timestamp_greater_event_id_is_applied_last(
    version: RoomVersion, name_b: str, name_c: str
) -> None:
    # spec: "Reverse topological power ordering" rule 3.
    room = ForkingRoom(version)
    main = room.start({BOB: 50, CHARLIE: 50})
    room.member(main, "IMB", BOB, "join")
    room.member(main, "IMC", CHARLIE, "join")
    a, b = room.fork(main), room.fork(main)
    users = {BOB: 50, CHARLIE: 50}
    room.send(a, name_b, *POWER, BOB, room.pl_content({**users, ZARA: 10}), ts=5000)
    room.send(b, name_c, *POWER, CHARLIE, room.pl_content({**users, EVELYN: 20}), ts=5000)
    assert room.name_of(_resolve_both_orders(room, a, b), POWER) == "PY"


@pytest.mark.parametrize("version", VERSIONS_V2_AND_V2_1)
def test_mainline_ties_are_broken_by_timestamp(version: RoomVersion) -> None:
    # spec: "Mainline ordering" rule 2 — same mainline position, later ts applied last.
    room, main = _room_with_mod(version)
    a, b = room.fork(main), room.fork(main)
    room.topic(b, "TB", BOB)
    room.topic(a, "TA", ALICE)
    assert room.name_of(_resolve_both_orders(room, a, b), TOPIC) == "TA"


@pytest.mark.parametrize("version", VERSIONS_V2_AND_V2_1)
def test_auth_difference_events_are_resolved_too(version: RoomVersion) -> None:
    # Fork a changes the power levels twice. PA1 is only in fork a's auth chain (the
    # auth difference) and must be applied before PA2, which it authorises.
    room, main = _room_with_mod(version)
    a, b = room.fork(main), room.fork(main)
    room.power(a, "PA1", ALICE, {BOB: 50, CHARLIE: 50})
    room.power(a, "PA2", CHARLIE, {BOB: 50, CHARLIE: 50, ZARA: 50})
    room.topic(b, "TB", BOB)
    result = _resolve_both_orders(room, a, b)
    assert room.name_of(result, POWER) == "PA2"
    assert room.name_of(result, TOPIC) == "TB"


@pytest.mark.parametrize("version", VERSIONS_V2_AND_V2_1)
def test_unconflicted_state_is_kept_and_final(version: RoomVersion) -> None:
    room, main = _room_with_mod(version)
    a, b = room.fork(main), room.fork(main)
    room.topic(a, "TA", ALICE)
    room.topic(b, "TB", BOB)
    result = _resolve_both_orders(room, a, b)
    for key, event_id in main.items():
        assert result[key] == event_id


@pytest.mark.parametrize("version", VERSIONS_V2_AND_V2_1)
def test_key_missing_from_one_state_set_is_conflicted(version: RoomVersion) -> None:
    # A key present in only some state sets goes through the auth checks (spec:
    # "Unconflicted state map and conflicted state set"): Evelyn's join is only in fork
    # b, and the concurrent switch to invite-only means it is dropped.
    room, main = _room_with_mod(version)
    a, b = room.fork(main), room.fork(main)
    room.join_rules(a, "JR", "invite")
    room.member(b, "ME", EVELYN, "join")
    without_evelyn = resolve_state(room.version, [a, b], room.fetch)
    assert member(EVELYN) not in without_evelyn


def test_v2_1_rejected_auth_event_is_not_a_fallback() -> None:
    # v2.1 starts step 2 from the empty map, so the join rules change JR is checked
    # against its own auth events. If Alice's membership among them is rejected it is
    # not used (spec: "Rejected events", last paragraph): JR fails, and so does the
    # other conflicted join rules event IJR, which cites the same membership.
    outcomes = {}
    for rejected in (False, True):
        room, main = _room_with_mod(V12)
        a, b = room.fork(main), room.fork(main)
        room.join_rules(a, "JR", "invite")
        room.topic(b, "TB", BOB)
        alice_join = room.events[main[member(ALICE)]]
        alice_join.rejected = rejected
        result = _resolve_both_orders(room, a, b)
        outcomes[rejected] = room.name_of(result, JOIN_RULES)
    assert outcomes == {False: "JR", True: None}


def test_v2_room_version_2_event_format() -> None:
    # Room version 2 carries event ids and [id, hash] reference pairs in events.
    room, main = _room_with_mod(V2)
    a, b = room.fork(main), room.fork(main)
    room.member(a, "MB", ALICE, "ban", BOB)
    room.topic(b, "TB", BOB)
    result = _resolve_both_orders(room, a, b)
    assert room.name_of(result, member(BOB)) == "MB"
    assert TOPIC not in result  # Bob is no longer in the room to set it
