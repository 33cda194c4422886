"""History visibility as the spec states it, on membership and visibility histories.

spec: client-server "Room History Visibility", "Server behaviour".
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from homeserver.rooms.visibility import (
    EventFacts,
    History,
    effective_visibility,
    event_visible,
    visibility_allows,
)


def at(depth: int) -> tuple[int, int]:
    return (depth, depth)


def visible(depth: int, memberships: History, visibilities: History, **facts: bool) -> bool:
    return event_visible(EventFacts(pos=at(depth), **facts), memberships, visibilities)


@pytest.mark.parametrize(
    ("visibility", "membership", "joined_later", "allowed"),
    [
        ("world_readable", None, False, True),
        ("world_readable", "leave", False, True),
        ("joined", "join", False, True),
        ("joined", "invite", True, False),
        ("joined", None, True, False),
        ("shared", None, True, True),
        ("shared", None, False, False),
        ("shared", "leave", False, False),
        ("invited", "invite", False, True),
        ("invited", "knock", False, False),
        ("invited", None, True, False),
        ("joined", "ban", False, False),
        # Unknown or missing values count as shared.
        ("something_else", None, True, True),
        (None, None, True, True),
    ],
)
def test_the_five_rules(
    visibility: str | None, membership: str | None, joined_later: bool, allowed: bool
) -> None:
    assert visibility_allows(visibility, membership, joined_later) is allowed


def test_effective_visibility_defaults_to_shared() -> None:
    assert effective_visibility(None) == "shared"
    assert effective_visibility(42) == "shared"
    assert effective_visibility("invited") == "invited"


def test_history_lookups() -> None:
    h = History([(at(5), "join"), (at(2), "invite"), (at(9), "leave")])
    assert h.before(at(2)) is None
    assert h.after(at(2)) == "invite"
    assert h.before(at(5)) == "invite"
    assert h.before(at(6)) == "join"
    assert h.after(at(9)) == "leave"
    assert h.any_later(at(4), "join")
    assert not h.any_later(at(5), "join")
    assert h.latest == "leave"


def test_joined_room_hides_history_before_the_join() -> None:
    visibilities = History([(at(3), "joined")])
    memberships = History([(at(10), "join")])
    assert not visible(5, memberships, visibilities)
    assert visible(11, memberships, visibilities)
    # The user's own join is visible (membership after it is join).
    assert visible(10, memberships, visibilities, is_own_membership=True)


def test_shared_room_shows_history_to_later_joiners() -> None:
    visibilities = History([(at(3), "shared")])
    assert visible(5, History([(at(10), "join")]), visibilities)
    # Never joined: nothing.
    assert not visible(5, History([(at(10), "invite")]), visibilities)


def test_invited_room_shows_from_the_invite() -> None:
    visibilities = History([(at(3), "invited")])
    memberships = History([(at(6), "invite"), (at(9), "join")])
    assert not visible(5, memberships, visibilities)
    assert visible(7, memberships, visibilities)
    assert visible(10, memberships, visibilities)


def test_leaving_stops_visibility() -> None:
    visibilities = History([(at(1), "joined")])
    memberships = History([(at(2), "join"), (at(5), "leave")])
    assert visible(4, memberships, visibilities)
    assert not visible(6, memberships, visibilities)
    # Their own leave is visible: the membership before it was join.
    assert visible(5, memberships, visibilities, is_own_membership=True)


def test_visibility_is_taken_at_the_event_not_now() -> None:
    # The room was world_readable, then became joined: early events stay readable.
    visibilities = History([(at(1), "world_readable"), (at(5), "joined")])
    nobody = History()
    assert visible(3, nobody, visibilities)
    assert not visible(7, nobody, visibilities)


def test_history_visibility_change_seen_if_before_or_after_allows() -> None:
    nobody = History()
    to_joined = History([(at(1), "world_readable"), (at(5), "joined")])
    assert visible(5, nobody, to_joined, is_visibility_change=True)
    to_readable = History([(at(1), "joined"), (at(5), "world_readable")])
    assert visible(5, nobody, to_readable, is_visibility_change=True)
    # A plain event at the same point is judged by the state before it only.
    assert not visible(5, nobody, to_readable)


@given(
    changes=st.lists(
        st.tuples(st.integers(1, 50), st.sampled_from(["join", "leave", "invite", "ban", "knock"])),
        max_size=8,
        unique_by=lambda c: c[0],
    ),
    vis=st.sampled_from(["world_readable", "shared", "invited", "joined"]),
    depth=st.integers(1, 60),
)
def test_properties(changes: list[tuple[int, str]], vis: str, depth: int) -> None:
    memberships = History([(at(d), m) for d, m in changes])
    visibilities = History([(at(0), vis)])
    shown = visible(depth, memberships, visibilities)
    before = memberships.before(at(depth))
    if vis == "world_readable" or before == "join":
        assert shown
    if vis == "joined":
        assert shown == (before == "join")
    if vis == "shared":
        assert shown == (before == "join" or memberships.any_later(at(depth), "join"))
