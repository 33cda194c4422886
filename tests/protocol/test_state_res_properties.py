"""Properties of state resolution on random rooms and random auth DAGs (hypothesis).

- The result never depends on the order of the state sets, on the insertion order of
  the state maps, or on the order in which events were stored (servers see the same
  forks in different orders and must agree).
- The unconflicted state map is part of the result (v2 step 5).
- The auth DAG helpers agree with naive implementations of the spec's definitions.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from homeserver.protocol.auth_chain import (
    ancestors,
    auth_difference,
    conflicted_subgraph,
)
from homeserver.protocol.errors import AuthError
from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import V1, V2, V11, V12, RoomVersion
from homeserver.protocol.state_res import resolve_state

from .room_builder import auth_dag_lookup
from .test_state_res_room import ALICE, BOB, CHARLIE, EVELYN, ZARA, Branch, ForkingRoom

USERS = [ALICE, BOB, CHARLIE, ZARA, EVELYN]
KINDS = ["topic", "power", "join", "leave", "kick", "ban", "invite", "join_rules", "name"]

# One action: (branch, kind, sender, target, value)
actions = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.sampled_from(KINDS),
        st.integers(0, len(USERS) - 1),
        st.integers(0, len(USERS) - 1),
        st.integers(0, 100),
    ),
    min_size=1,
    max_size=20,
)


def _apply(room: ForkingRoom, branch: Branch, step: int, action: tuple[Any, ...]) -> None:
    _, kind, s, t, value = action
    sender, target = USERS[s], USERS[t]
    name = f"E{step}"
    try:
        if kind == "topic":
            room.topic(branch, name, sender)
        elif kind == "power":
            users = {BOB: 50 if value < 60 else 0, CHARLIE: value % 60, target: value % 51}
            room.power(branch, name, sender, users)
        elif kind in ("join", "leave", "invite"):
            who = sender if kind != "invite" else target
            room.send(branch, name, "m.room.member", who, sender, {"membership": kind})
        elif kind in ("kick", "ban"):
            membership = "leave" if kind == "kick" else "ban"
            room.member(branch, name, sender, membership, target)
        elif kind == "join_rules":
            rule = "public" if value % 2 else "invite"
            room.send(branch, name, "m.room.join_rules", "", sender, {"join_rule": rule})
        else:
            content = {"membership": "join", "displayname": str(value)}
            room.send(branch, name, "m.room.member", sender, sender, content)
    except AuthError:
        pass  # not a valid event on this branch: the room just does not contain it


def _random_room(
    version: RoomVersion, steps: list[tuple[Any, ...]]
) -> tuple[ForkingRoom, list[Branch]]:
    room = ForkingRoom(version)
    main = room.start({BOB: 50, CHARLIE: 25})
    room.member(main, "IMB", BOB, "join")
    room.member(main, "IMC", CHARLIE, "join")
    branches = [room.fork(main) for _ in range(3)]
    for step, action in enumerate(steps):
        _apply(room, branches[action[0]], step, action)
    return room, branches


def _shuffled(mapping: dict[Any, Any], rng: random.Random) -> dict[Any, Any]:
    items = list(mapping.items())
    rng.shuffle(items)
    return dict(items)


VERSIONS = st.sampled_from([V1, V2, V11, V12])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(version=VERSIONS, steps=actions, rng=st.randoms(use_true_random=False))
def test_result_does_not_depend_on_input_order(
    version: RoomVersion, steps: list[tuple[Any, ...]], rng: random.Random
) -> None:
    room, branches = _random_room(version, steps)
    expected = resolve_state(version, branches, room.fetch)
    order = list(branches)
    rng.shuffle(order)
    store = _shuffled(room.events, rng)
    fetched: list[str] = []

    def fetch(event_id: str) -> Event | None:
        fetched.append(event_id)
        return store.get(event_id)

    again = resolve_state(version, [_shuffled(b, rng) for b in order], fetch)
    assert again == expected
    # Every value is an event of the room, stored under its own key.
    for key, event_id in again.items():
        assert room.events[event_id].state_tuple == key


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(version=st.sampled_from([V2, V11, V12]), steps=actions)
def test_unconflicted_state_is_kept(version: RoomVersion, steps: list[tuple[Any, ...]]) -> None:
    room, branches = _random_room(version, steps)
    result = resolve_state(version, branches, room.fetch)
    for key, event_id in branches[0].items():
        if all(b.get(key) == event_id for b in branches[1:]):
            assert result[key] == event_id


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(version=VERSIONS, steps=actions)
def test_resolving_a_state_with_itself_changes_nothing(
    version: RoomVersion, steps: list[tuple[Any, ...]]
) -> None:
    room, branches = _random_room(version, steps)
    for branch in branches:
        assert resolve_state(version, [branch, dict(branch)], room.fetch) == branch


# -- the auth DAG helpers against the definitions ---------------------------------------


@st.composite
def random_dags(draw: st.DrawFn) -> dict[str, list[str]]:
    size = draw(st.integers(1, 18))
    edges: dict[str, list[str]] = {}
    for i in range(size):
        parents = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else []
        edges[f"n{i}"] = [f"n{p}" for p in parents]
    return edges


def _naive_chain(edges: dict[str, list[str]], node: str) -> set[str]:
    out: set[str] = set()
    for parent in edges[node]:
        out |= {parent} | _naive_chain(edges, parent)
    return out


@settings(max_examples=150, deadline=None)
@given(edges=random_dags(), data=st.data())
def test_auth_helpers_match_the_definitions(
    edges: dict[str, list[str]], data: st.DataObject
) -> None:
    nodes = sorted(edges)
    lookup = auth_dag_lookup(edges, "m.room.topic")
    subsets = st.lists(st.sampled_from(nodes), max_size=5, unique=True)

    start = data.draw(subsets)
    naive: set[str] = set().union(*[_naive_chain(edges, n) for n in start])
    assert ancestors(lookup, start) == naive

    # spec: "Auth difference" — ∪Cᵢ − ∩Cᵢ over the full auth chains of the sets.
    common = data.draw(subsets)
    per_set = [data.draw(subsets) for _ in range(data.draw(st.integers(2, 3)))]
    chains = [set().union(*[_naive_chain(edges, n) for n in [*common, *ids]]) for ids in per_set]
    expected = set().union(*chains) - set.intersection(*chains)
    assert auth_difference(lookup, common, per_set) == expected

    # spec: rooms/v12 "Conflicted state subgraph" — x is on a path c1 → … → x → … → c2
    # of length ≥ 1 between conflicted events.
    conflicted = set(data.draw(subsets))
    reach = {n: _naive_chain(edges, n) | {n} for n in nodes}  # reflexive ancestors
    subgraph = {
        x
        for x in nodes
        for c1 in conflicted
        for c2 in conflicted
        if c1 != c2 and x in reach[c1] and c2 in reach[x]
    }
    assert conflicted_subgraph(lookup, conflicted) == subgraph
