"""State resolution v1 (room version 1). spec: rooms/v1 "State resolution"."""

from __future__ import annotations

import hashlib

from homeserver.protocol.room_versions import V1
from homeserver.protocol.state_res import resolve_state

from .test_state_res_room import ALICE, BOB, CHARLIE, ZARA, Branch, ForkingRoom

POWER = ("m.room.power_levels", "")
TOPIC = ("m.room.topic", "")


def _room() -> tuple[ForkingRoom, Branch]:
    room = ForkingRoom(V1)
    main = room.start({BOB: 50})
    room.member(main, "IMB", BOB, "join")
    room.member(main, "IMC", CHARLIE, "join")
    return room, main


def _filler(room: ForkingRoom, branch: Branch, prefix: str, count: int) -> None:
    """Deepen a branch with unrelated events (v1 orders conflicts by depth)."""
    for i in range(count):
        room.send(branch, f"{prefix}{i}", "org.example.filler", f"{prefix}{i}", ALICE, {})


def _resolve(room: ForkingRoom, *states: Branch) -> dict[tuple[str, str], str]:
    result = resolve_state(V1, list(states), room.fetch)
    assert resolve_state(V1, list(states)[::-1], room.fetch) == result
    return result


def test_without_conflicts_the_result_is_the_union() -> None:
    # spec: "Start by setting R to the union of the states to be resolved, excluding
    # any conflicting events" — a key only some states have is not a conflict in v1.
    room, main = _room()
    a, b = room.fork(main), room.fork(main)
    room.topic(a, "TA", ALICE)
    room.member(b, "MZ", ZARA, "join")
    result = _resolve(room, a, b)
    assert room.name_of(result, TOPIC) == "TA"
    assert room.name_of(result, ("m.room.member", ZARA)) == "MZ"
    assert all(result[k] == v for k, v in main.items())


def test_power_levels_later_change_applies_when_allowed() -> None:
    room, main = _room()
    a, b = room.fork(main), room.fork(main)
    room.power(a, "PA", ALICE, {BOB: 50, ZARA: 10})
    _filler(room, b, "F", 2)
    room.power(b, "PB", ALICE, {BOB: 50, CHARLIE: 20})
    # Ascending depth: PA then PB; PB is allowed after PA, so it is the result.
    assert room.name_of(_resolve(room, a, b), POWER) == "PB"


def test_power_levels_change_by_demoted_user_is_refused() -> None:
    room, main = _room()
    a, b = room.fork(main), room.fork(main)
    room.power(a, "PA", ALICE, {BOB: 0})
    _filler(room, b, "F", 2)
    room.power(b, "PB", BOB, {BOB: 50, CHARLIE: 50})
    assert room.name_of(_resolve(room, a, b), POWER) == "PA"


def test_power_levels_pass_stops_at_the_first_refused_event() -> None:
    # spec: "If it would not be allowed, stop" — PC would be allowed after PA, but the
    # pass stops at PB.
    room, main = _room()
    a, b, c = room.fork(main), room.fork(main), room.fork(main)
    room.power(a, "PA", ALICE, {BOB: 0})
    _filler(room, b, "FB", 1)
    room.power(b, "PB", BOB, {BOB: 50, CHARLIE: 50})
    _filler(room, c, "FC", 3)
    room.power(c, "PC", ALICE, {BOB: 0, ZARA: 10})
    result = _resolve(room, a, b, c)
    assert room.name_of(result, POWER) == "PA"
    assert resolve_state(V1, [c, a, b], room.fetch) == result


def test_member_conflict_ban_wins_over_deeper_display_name_change() -> None:
    room, main = _room()
    a, b = room.fork(main), room.fork(main)
    room.member(a, "BAN", ALICE, "ban", BOB)
    _filler(room, b, "F", 2)
    room.send(b, "NAME", "m.room.member", BOB, BOB, {"membership": "join", "displayname": "b"})
    assert room.name_of(_resolve(room, a, b), ("m.room.member", BOB)) == "BAN"


def test_other_conflicts_take_the_deepest_event_that_passes_auth() -> None:
    # Bob's topic is deeper, but in R (after the power levels pass) Bob has power 0.
    room, main = _room()
    a, b = room.fork(main), room.fork(main)
    room.power(a, "PA", ALICE, {BOB: 0})
    room.topic(a, "TA", ALICE)
    _filler(room, b, "F", 4)
    room.topic(b, "TB", BOB)
    result = _resolve(room, a, b)
    assert room.name_of(result, POWER) == "PA"
    assert room.name_of(result, TOPIC) == "TA"


def test_other_conflicts_deepest_wins_when_both_pass() -> None:
    room, main = _room()
    a, b = room.fork(main), room.fork(main)
    room.topic(a, "TA", ALICE)
    _filler(room, b, "F", 2)
    room.topic(b, "TB", BOB)
    assert room.name_of(_resolve(room, a, b), TOPIC) == "TB"


def test_same_depth_lowest_sha1_of_event_id_wins() -> None:
    room, main = _room()
    a, b = room.fork(main), room.fork(main)
    ta = room.topic(a, "TA", ALICE)
    tb = room.topic(b, "TB", ALICE)
    assert ta.depth == tb.depth
    lowest = min((ta, tb), key=lambda e: hashlib.sha1(e.event_id.encode()).hexdigest())
    assert _resolve(room, a, b)[TOPIC] == lowest.event_id


def test_other_conflicts_are_checked_after_the_member_pass() -> None:
    # The ban of Bob (member pass) is in R when his deeper topic is considered.
    room, main = _room()
    a, b = room.fork(main), room.fork(main)
    room.topic(a, "TA", ALICE)
    room.member(a, "BAN", ALICE, "ban", BOB)
    _filler(room, b, "F", 4)
    room.topic(b, "TB", BOB)
    result = _resolve(room, a, b)
    assert room.name_of(result, ("m.room.member", BOB)) == "BAN"
    assert room.name_of(result, TOPIC) == "TA"


def test_member_pass_result_authorises_other_conflicts() -> None:
    # Bob's membership is conflicted (a display name change on one side); once the
    # member pass resolves it, his deeper topic passes auth in R.
    room, main = _room()
    a, b = room.fork(main), room.fork(main)
    room.topic(a, "TA", ALICE)
    room.send(a, "NAME", "m.room.member", BOB, BOB, {"membership": "join", "displayname": "b"})
    _filler(room, b, "F", 4)
    room.topic(b, "TB", BOB)
    result = _resolve(room, a, b)
    assert room.name_of(result, ("m.room.member", BOB)) == "NAME"
    assert room.name_of(result, TOPIC) == "TB"
