"""``resolve_state``'s contract (inputs, errors, trivial cases) and the auth DAG
helpers on small hand-made graphs.

spec: rooms/fragments/v2-state-res "Auth chain", "Auth difference"; rooms/v12
"Conflicted state subgraph".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from homeserver.protocol.auth_chain import (
    EventLookup,
    ancestors,
    auth_difference,
    conflicted_subgraph,
)
from homeserver.protocol.errors import StateResolutionError
from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import V1, V11, V12, RoomVersion, StateResAlgorithm
from homeserver.protocol.state_res import resolve_state
from homeserver.protocol.state_res_auth import REAL_AUTH_RULES, AuthRules
from homeserver.protocol.state_res_v2 import _Resolver, is_power_event

from .room_builder import auth_dag_lookup
from .test_state_res_room import ALICE, BOB, CHARLIE, ForkingRoom

# -- a bare DAG: only auth_events matter to the helpers ----------------------------------


def dag(edges: dict[str, list[str]]) -> EventLookup:
    """``edges[x]`` are the auth events of x."""
    events = {}
    for name, parents in edges.items():
        pdu = {
            "type": "m.room.member",
            "state_key": f"@{name}:x",
            "sender": f"@{name}:x",
            "room_id": "!r:x",
            "content": {"membership": "join"},
            "origin_server_ts": 0,
            "depth": 1,
            "prev_events": [],
            "auth_events": parents,
            "hashes": {"sha256": "x"},
            "signatures": {},
        }
        events[name] = Event(pdu, V11, event_id=name)
    return EventLookup(events.get)


# create <- power <- alice, bob; power2 <- power; c1 <- power2; c2 <- c1 via x
GRAPH = {
    "create": [],
    "power": ["create"],
    "alice": ["create", "power"],
    "power2": ["power", "alice"],
    "c1": ["power2", "alice"],
    "x": ["c1"],
    "y": ["x", "alice"],
    "c2": ["y"],
    "z": ["c1"],  # below c1 but leads to no other conflicted event
    "c3": ["create"],  # conflicted, unrelated to c1/c2
}


def test_ancestors_is_the_auth_chain() -> None:
    lookup = dag(GRAPH)
    assert ancestors(lookup, ["c1"]) == {"power2", "alice", "power", "create"}
    assert ancestors(lookup, ["c1"], include_start=True) == {
        "c1",
        "power2",
        "alice",
        "power",
        "create",
    }
    assert ancestors(lookup, ["create"]) == set()
    # `stop` is an auth-closed set the walk does not enter.
    assert ancestors(lookup, ["c1"], stop={"power", "create"}) == {"power2", "alice"}


def test_auth_difference_is_union_minus_intersection() -> None:
    lookup = dag(GRAPH)
    # C1 = chain(alice, c1) ; C2 = chain(alice, c3)
    difference = auth_difference(lookup, ["alice"], [["c1"], ["c3"]])
    assert difference == {"power2", "alice"}
    # Same with the shared event listed per set instead of as common.
    assert auth_difference(lookup, [], [["alice", "c1"], ["alice", "c3"]]) == {"power2", "alice"}
    assert auth_difference(lookup, ["alice"], [["c1"]]) == set()


def test_conflicted_subgraph_is_the_paths_between_conflicted_events() -> None:
    lookup = dag(GRAPH)
    # c2 -> y -> x -> c1 is a path between conflicted events; z hangs off c1 but
    # reaches no conflicted event; c3 is on no path; power2/alice are above c1 only.
    assert conflicted_subgraph(lookup, {"c1", "c2", "c3"}) == {"c1", "x", "y", "c2"}
    # A path through a shared ancestor: alice is below c1 and above power2's parent.
    assert conflicted_subgraph(lookup, {"c1", "power"}) == {"c1", "power2", "alice", "power"}
    assert conflicted_subgraph(lookup, {"c3"}) == set()


def test_missing_auth_event_raises() -> None:
    lookup = dag({"a": ["gone"]})
    with pytest.raises(StateResolutionError, match="gone"):
        ancestors(lookup, ["a"])


# -- resolve_state's contract ----------------------------------------------------------


def _forked(version: RoomVersion) -> tuple[ForkingRoom, dict[Any, str], dict[Any, str]]:
    room = ForkingRoom(version)
    main = room.start({BOB: 50})
    room.member(main, "IMB", BOB, "join")
    a, b = room.fork(main), room.fork(main)
    room.topic(a, "TA", ALICE)
    room.topic(b, "TB", BOB)
    return room, a, b


@pytest.mark.parametrize("version", [V1, V11, V12])
def test_trivial_inputs(version: RoomVersion) -> None:
    room, a, _ = _forked(version)
    assert resolve_state(version, [], room.fetch) == {}
    assert resolve_state(version, [a], room.fetch) == a
    assert resolve_state(version, [a, a], room.fetch) == a
    assert resolve_state(version, (a, dict(a), a), room.fetch) == a


@pytest.mark.parametrize("version", [V1, V11, V12])
def test_missing_conflicted_event_raises(version: RoomVersion) -> None:
    room, a, b = _forked(version)
    del room.events[b[("m.room.topic", "")]]
    with pytest.raises(StateResolutionError, match="not found"):
        resolve_state(version, [a, b], room.fetch)


def test_missing_auth_chain_event_raises() -> None:
    room, a, b = _forked(V11)
    del room.events[room.event_id("IPOWER")]
    with pytest.raises(StateResolutionError, match="IPOWER"):
        resolve_state(V11, [a, b], room.fetch)


@pytest.mark.parametrize(
    "bad",
    [
        "not a list",
        [{"k": "v"}],
        [{("m.room.topic",): "$x"}],
        [{("m.room.topic", ""): 5}],
        [{("m.room.topic", 1): "$x"}],
        [None],
        [[("m.room.topic", ""), "$x"]],
    ],
)
def test_malformed_state_sets_raise(bad: Any) -> None:
    room, _, _ = _forked(V11)
    with pytest.raises(StateResolutionError):
        resolve_state(V11, bad, room.fetch)


def test_state_set_entry_under_the_wrong_key_raises() -> None:
    room, a, b = _forked(V11)
    b[("m.room.name", "")] = b.pop(("m.room.topic", ""))
    with pytest.raises(StateResolutionError, match="not the state event"):
        resolve_state(V11, [a, b], room.fetch)


def test_fetch_returning_another_event_raises() -> None:
    room, a, b = _forked(V11)
    other = room.events[room.event_id("CREATE")]
    with pytest.raises(StateResolutionError):
        resolve_state(V11, [a, b], lambda event_id: other)
    with pytest.raises(StateResolutionError):
        resolve_state(V11, [a, b], lambda event_id: {"event_id": event_id})  # type: ignore[arg-type,return-value]


def test_power_events() -> None:
    # spec: v2-state-res "Power events"
    room = ForkingRoom(V11)
    main = room.start({BOB: 50})
    room.member(main, "IMB", BOB, "join")
    assert is_power_event(room.events[main[("m.room.power_levels", "")]])
    assert is_power_event(room.events[main[("m.room.join_rules", "")]])
    assert not is_power_event(room.events[main[("m.room.create", "")]])
    assert not is_power_event(room.events[main[("m.room.member", BOB)]])
    kick = room.member(room.fork(main), "KICK", ALICE, "leave", BOB)
    ban = room.member(room.fork(main), "BAN", ALICE, "ban", BOB)
    leave = room.member(room.fork(main), "LEAVE", BOB, "leave")
    topic = room.topic(room.fork(main), "T", ALICE)
    assert is_power_event(kick) and is_power_event(ban)
    assert not is_power_event(leave)  # leaving yourself removes nobody's power
    assert not is_power_event(topic)


@pytest.mark.parametrize("version", [V11, V12])
def test_auth_event_loops_raise_instead_of_hanging(version: RoomVersion) -> None:
    # Ids that are not hashes (v1/v2) or a broken store can make auth events loop.
    lookup = auth_dag_lookup(
        {"p1": ["p2"], "p2": ["p1"], "p3": ["p1"], "e": ["p3"], "m": []}, "m.room.power_levels"
    )
    resolver = _Resolver(version, lookup, REAL_AUTH_RULES)
    with pytest.raises(StateResolutionError, match="loop"):
        resolver.mainline_sorted(["e"], "p1")  # the mainline itself loops
    with pytest.raises(StateResolutionError, match="loop"):
        resolver.mainline_sorted(["e"], "m")  # e's power levels chain loops
    with pytest.raises(StateResolutionError, match="cycle"):
        resolver.power_sorted(["p1"], {"p1", "p2"})


@pytest.mark.parametrize("version", [V1, V11, V12])
def test_events_of_another_room_raise(version: RoomVersion) -> None:
    room, a, b = _forked(version)
    other = ForkingRoom(version, prefix="OTHER")
    elsewhere = other.start()
    other.topic(elsewhere, "TX", ALICE)
    assert other.room_id != room.room_id
    b[("m.room.topic", "")] = other.event_id("TX")
    merged = {**other.events, **room.events}
    with pytest.raises(StateResolutionError, match="several rooms"):
        resolve_state(version, [a, b], merged.get)


@pytest.mark.parametrize("version", [V11, V12])
def test_order_of_the_iterative_auth_checks(version: RoomVersion) -> None:
    # With rules that allow everything and record what they are asked, the order of
    # the checks is the algorithm's order (spec: v2-state-res "Algorithm"):
    # step 1/2 — power events and their auth ancestors in the full conflicted set by
    # reverse topological power ordering: IPOWER (no conflicted auth event), then PA
    # (Alice, 100), IMB (Bob, 50), IMC (Charlie, 0), then KC which cites IMB and IMC.
    # (IMB is unconflicted but in the auth difference: only fork b's events cite it.)
    # step 3/4 — the rest by mainline of the resolved PA: TB (hangs off IPOWER,
    # position 1) before TA (off PA, position 0).
    room = ForkingRoom(version)
    main = room.start({BOB: 50})
    room.member(main, "IMB", BOB, "join")
    room.member(main, "IMC", CHARLIE, "join")
    a, b = room.fork(main), room.fork(main)
    room.power(a, "PA", ALICE, {BOB: 50})
    room.topic(a, "TA", ALICE)
    room.topic(b, "TB", BOB)
    room.member(b, "KC", BOB, "leave", CHARLIE)
    checked: list[str] = []

    def allow(event: Event, state: Mapping[tuple[str, str], Event]) -> None:
        checked.append(room.name_of({("x", ""): event.event_id}, ("x", "")) or "")

    rules = AuthRules(check=allow, auth_types=REAL_AUTH_RULES.auth_types)
    resolved = resolve_state(version, [a, b], room.fetch, auth_rules=rules)
    if version.state_res is StateResAlgorithm.V2_1:
        # v2.1 adds the conflicted state subgraph: IJR is on the path IMC → IJR → IPOWER
        # between conflicted events, and is a power event (sent before PA).
        assert checked == ["IPOWER", "IJR", "PA", "IMB", "IMC", "KC", "TB", "TA"]
    else:
        assert checked == ["IPOWER", "PA", "IMB", "IMC", "KC", "TB", "TA"]
    assert room.name_of(resolved, ("m.room.topic", "")) == "TA"
    assert room.name_of(resolved, ("m.room.member", CHARLIE)) == "KC"
