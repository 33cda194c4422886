"""A room with named events and forks, for the state resolution tests.

``ForkingRoom`` builds valid events of any room version: each event's auth_events are
chosen from the state of the branch it is sent on (server-server "Auth events
selection") and every event is checked against that state with the real auth rules
before it is added, so the scenarios are ones a real room could contain. Branches are
plain state maps; forking is copying one. Event ids are readable names. Signatures
and hashes are placeholders: state resolution never looks at them.

The tests at the bottom check the builder itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from homeserver.protocol.auth import check_auth_rules
from homeserver.protocol.auth_events import auth_types_for_event
from homeserver.protocol.errors import AuthError
from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import V1, V2, V10, V11, V12, RoomVersion

StateKey = tuple[str, str]
Branch = dict[StateKey, str]

ALICE = "@alice:example.com"  # creator, power 100 (infinite in v12)
BOB = "@bob:example.com"
CHARLIE = "@charlie:example.com"
ZARA = "@zara:example.com"
EVELYN = "@evelyn:example.com"

VERSIONS_V2 = [V2, V10, V11]
VERSIONS_V2_AND_V2_1 = [V2, V10, V11, V12]


class ForkingRoom:
    def __init__(self, version: RoomVersion, creator: str = ALICE, prefix: str = "") -> None:
        self.version = version
        self.prefix = prefix  # of every event name, to tell the events of two rooms apart
        self.creator = creator
        self.events: dict[str, Event] = {}
        self.ts = 0
        self.room_id = f"!{prefix}room:example.com"
        if version.room_id_from_create_event:
            self.room_id = f"!{prefix}CREATE"
        self.last: dict[int, str] = {}  # id(branch) -> latest event id, for prev_events

    # -- ids and references ----------------------------------------------------------

    def event_id(self, name: str) -> str:
        name = self.prefix + name
        return f"${name}:example.com" if self.version.event_id_in_event else f"${name}"

    def _ref(self, event_id: str) -> Any:
        if self.version.event_id_in_event:
            return [event_id, {"sha256": "placeholder"}]
        return event_id

    # -- building ----------------------------------------------------------------------

    def send(
        self,
        branch: Branch,
        name: str,
        event_type: str,
        state_key: str,
        sender: str,
        content: Mapping[str, Any],
        *,
        check: bool = True,
        ts: int | None = None,
    ) -> Event:
        """Add a state event on ``branch`` (updated in place) and return it."""
        event_id = self.event_id(name)
        assert event_id not in self.events, f"duplicate event name {name}"
        auth_ids = [
            branch[key]
            for key in auth_types_for_event(self.version, event_type, state_key, sender, content)
            if key in branch
        ]
        prev = [self.last[id(branch)]] if id(branch) in self.last else []
        depth = 1 + max((self.events[p].depth for p in prev), default=0)
        if ts is None:
            self.ts += 1
            ts = self.ts
        pdu: dict[str, Any] = {
            "type": event_type,
            "state_key": state_key,
            "sender": sender,
            "content": dict(content),
            "origin_server_ts": ts,
            "depth": depth,
            "prev_events": [self._ref(p) for p in prev],
            "auth_events": [self._ref(a) for a in auth_ids],
            "hashes": {"sha256": "placeholder"},
            "signatures": {},
        }
        is_create = event_type == "m.room.create"
        if not (is_create and self.version.room_id_from_create_event):
            pdu["room_id"] = self.room_id
        if self.version.event_id_in_event:
            pdu["event_id"] = event_id
        event = Event(pdu, self.version, event_id=event_id)
        if check:
            state = {key: self.events[eid] for key, eid in branch.items()}
            check_auth_rules(event, state)
        self.events[event_id] = event
        branch[(event_type, state_key)] = event_id
        self.last[id(branch)] = event_id
        return event

    def fork(self, branch: Branch) -> Branch:
        copy = dict(branch)
        if id(branch) in self.last:
            self.last[id(copy)] = self.last[id(branch)]
        return copy

    # -- common events -------------------------------------------------------------------

    def pl_content(self, users: Mapping[str, int], **extra: Any) -> dict[str, Any]:
        """Power levels with ``users``; the creator gets 100 except in v12, where
        creators are implicitly all-powerful and must not be listed."""
        listed = dict(users)
        if self.version.privileged_creators:
            listed.pop(self.creator, None)
        else:
            listed.setdefault(self.creator, 100)
        return {"users": listed, **extra}

    def member(
        self, branch: Branch, name: str, sender: str, membership: str, target: str | None = None
    ) -> Event:
        return self.send(
            branch, name, "m.room.member", target or sender, sender, {"membership": membership}
        )

    def power(self, branch: Branch, name: str, sender: str, users: Mapping[str, int]) -> Event:
        return self.send(branch, name, "m.room.power_levels", "", sender, self.pl_content(users))

    def topic(self, branch: Branch, name: str, sender: str) -> Event:
        return self.send(branch, name, "m.room.topic", "", sender, {"topic": name})

    def join_rules(self, branch: Branch, name: str, rule: str) -> Event:
        return self.send(branch, name, "m.room.join_rules", "", self.creator, {"join_rule": rule})

    def start(self, users: Mapping[str, int] | None = None, join_rule: str = "public") -> Branch:
        """Create, creator join, power levels, join rules; returns the branch."""
        branch: Branch = {}
        content: dict[str, Any] = {"room_version": self.version.identifier}
        if not self.version.implicit_room_creator:
            content["creator"] = self.creator
        create = self.send(branch, "CREATE", "m.room.create", "", self.creator, content)
        assert create.room_id == self.room_id
        self.member(branch, "IMA", self.creator, "join")
        self.power(branch, "IPOWER", self.creator, users or {})
        self.join_rules(branch, "IJR", join_rule)
        return branch

    def fetch(self, event_id: str) -> Event | None:
        return self.events.get(event_id)

    def name_of(self, state: Mapping[StateKey, str], key: StateKey) -> str | None:
        event_id = state.get(key)
        if event_id is None:
            return None
        return event_id[1 + len(self.prefix) :].split(":", 1)[0]


def names(room: ForkingRoom, *names_: str) -> list[str]:
    return [room.event_id(n) for n in names_]


# -- the builder itself -----------------------------------------------------------------


@pytest.mark.parametrize("version", [V1, *VERSIONS_V2_AND_V2_1])
def test_builder_makes_a_valid_room(version: RoomVersion) -> None:
    room = ForkingRoom(version)
    main = room.start({BOB: 50})
    room.member(main, "IMB", BOB, "join")
    assert room.name_of(main, ("m.room.member", BOB)) == "IMB"
    create = room.events[room.event_id("CREATE")]
    assert create.room_id == room.room_id
    power = room.events[main[("m.room.power_levels", "")]]
    assert main[("m.room.member", ALICE)] in power.auth_event_ids
    if version.room_id_from_create_event:
        assert create.event_id not in power.auth_event_ids
    else:
        assert create.event_id in power.auth_event_ids


@pytest.mark.parametrize("version", VERSIONS_V2_AND_V2_1)
def test_builder_refuses_events_the_auth_rules_refuse(version: RoomVersion) -> None:
    room = ForkingRoom(version)
    main = room.start({BOB: 0})
    room.member(main, "IMB", BOB, "join")
    with pytest.raises(AuthError):
        room.topic(main, "T", BOB)  # state_default is 50


def test_forks_continue_from_the_fork_point() -> None:
    room = ForkingRoom(V11)
    main = room.start()
    left = room.fork(main)
    right = room.fork(main)
    a = room.topic(left, "TA", ALICE)
    b = room.topic(right, "TB", ALICE)
    assert a.prev_event_ids == b.prev_event_ids == (room.event_id("IJR"),)
    assert ("m.room.topic", "") not in main
