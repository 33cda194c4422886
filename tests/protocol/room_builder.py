"""Build valid test events for a room of any version.

``RoomBuilder`` keeps a linear room (each event's prev_events is the previous event) and
its current state, and chooses each event's auth_events with the auth events selection.
It writes events in the shape of the room version: v1/v2 carry ``event_id`` and
``[id, {"sha256": ...}]`` reference pairs, v3+ get a computed id, the v12 create event has
no ``room_id`` and gives the room its id. Signatures are placeholders (one entry for the
sender's server) since auth only looks at who signed, not at the signature bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeserver.protocol.auth import check_auth_rules
from homeserver.protocol.auth_chain import EventLookup
from homeserver.protocol.auth_events import StateKey, auth_types_for_event, check_auth_events
from homeserver.protocol.canonical import unpadded_base64
from homeserver.protocol.errors import CanonicalJsonError
from homeserver.protocol.events import Event, content_hash
from homeserver.protocol.room_versions import V11, RoomVersion

ALICE = "@alice:a.example"  # the creator
ADMIN = "@admin:a.example"  # power level 100 (not a creator)
MOD = "@mod:b.example"  # power level 50
USER = "@user:b.example"  # power level 0, joined
BOB = "@bob:c.example"  # not in the room
CAROL = "@carol:c.example"  # not in the room

FAKE_SIGNATURE = {"ed25519:k": "c2lnbmF0dXJl"}


def domain(user_id: str) -> str:
    return user_id.partition(":")[2] or "nodomain.example"


class RoomBuilder:
    """A room of one version, its events and its current state."""

    def __init__(self, version: RoomVersion) -> None:
        self.version = version
        self.events: dict[str, Event] = {}
        self.state: dict[StateKey, Event] = {}
        self.latest: list[str] = []
        self.room_id = "!room:a.example"
        self._counter = 0

    # -- building ----------------------------------------------------------------------

    def make(
        self,
        event_type: str,
        sender: str,
        content: Mapping[str, Any],
        state_key: str | None = None,
        *,
        prev: list[str] | None = None,
        auth: list[str] | None = None,
        room_id: str | None = None,
        signatures: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        rejected: bool = False,
        omit_room_id: bool = False,
    ) -> Event:
        """An event on top of the room (not added to it)."""
        self._counter += 1
        prev_ids = list(self.latest) if prev is None else prev
        if auth is None:
            keys = auth_types_for_event(self.version, event_type, state_key, sender, content)
            auth = [self.state[k].event_id for k in keys if k in self.state]
        pdu: dict[str, Any] = {
            "type": event_type,
            "sender": sender,
            "content": dict(content),
            "room_id": self.room_id if room_id is None else room_id,
            "origin_server_ts": 1_700_000_000_000 + self._counter,
            "depth": self._counter,
            "prev_events": self._refs(prev_ids),
            "auth_events": self._refs(auth),
            "signatures": (
                {domain(sender): dict(FAKE_SIGNATURE)} if signatures is None else signatures
            ),
        }
        if state_key is not None:
            pdu["state_key"] = state_key
        if omit_room_id:
            del pdu["room_id"]
        if self.version.event_id_in_event:
            pdu["event_id"] = f"${self._counter}:{domain(sender)}"
        if extra:
            pdu.update(extra)
        try:
            pdu["hashes"] = {"sha256": unpadded_base64(content_hash(pdu, self.version))}
        except CanonicalJsonError:
            # v6+ events cannot carry floats; auth must still cope with such content, so
            # build one with a placeholder hash and id (the id is not computable).
            pdu["hashes"] = {"sha256": "bm90IGNhbm9uaWNhbA"}
            if not self.version.event_id_in_event:
                event_id = f"$noncanonical{self._counter}"
                return Event(pdu, self.version, event_id=event_id, rejected=rejected)
        return Event(pdu, self.version, rejected=rejected)

    def _refs(self, ids: list[str]) -> list[Any]:
        if self.version.event_id_in_event:
            return [[i, {"sha256": "aGFzaA"}] for i in ids]
        return list(ids)

    def add(self, event: Event, *, check: bool = True) -> Event:
        """Put ``event`` into the room (checking it first unless ``check=False``)."""
        if check:
            check_auth_events(event, [self.events[i] for i in event.auth_event_ids])
            check_auth_rules(event, self.state)
        self.events[event.event_id] = event
        if event.is_state:
            self.state[event.state_tuple] = event
        self.latest = [event.event_id]
        return event

    def send(
        self,
        event_type: str,
        sender: str,
        content: Mapping[str, Any],
        state_key: str | None = None,
        **kwargs: Any,
    ) -> Event:
        return self.add(self.make(event_type, sender, content, state_key, **kwargs))

    # -- common events -------------------------------------------------------------------

    def create(self, sender: str = ALICE, content: Mapping[str, Any] | None = None) -> Event:
        if content is None:
            content = self.create_content(sender)
        if self.version.room_id_from_create_event:
            # spec: rooms/v12 — no room_id; the room id comes from the create event's hash.
            event = self.make(
                "m.room.create", sender, content, "", prev=[], auth=[], omit_room_id=True
            )
            self.room_id = event.room_id
        else:
            self.room_id = f"!room:{domain(sender)}"
            event = self.make("m.room.create", sender, content, "", prev=[], auth=[])
        return self.add(event)

    def create_content(self, sender: str = ALICE, **extra: Any) -> dict[str, Any]:
        content: dict[str, Any] = {"room_version": self.version.identifier}
        if not self.version.implicit_room_creator:
            content["creator"] = sender
        content.update(extra)
        return content

    def member(self, sender: str, membership: str, target: str | None = None, **more: Any) -> Event:
        content = {"membership": membership, **more}
        return self.send("m.room.member", sender, content, target or sender)

    def power_levels_content(self, **changes: Any) -> dict[str, Any]:
        users = {ADMIN: 100, MOD: 50}
        if not self.version.privileged_creators:
            users[ALICE] = 100
        content: dict[str, Any] = {
            "users": users,
            "users_default": 0,
            "events_default": 0,
            "state_default": 50,
            "ban": 50,
            "kick": 50,
            "redact": 50,
            "invite": 0,
            "events": {"m.room.power_levels": 100, "m.room.name": 50},
        }
        content.update(changes)
        return content

    def set_join_rule(self, join_rule: str, **more: Any) -> Event:
        return self.send("m.room.join_rules", ALICE, {"join_rule": join_rule, **more}, "")


def standard_room(version: RoomVersion, join_rule: str = "public") -> RoomBuilder:
    """A room created by ALICE with power levels (ADMIN 100, MOD 50, others 0) and
    ADMIN, MOD and USER joined; the join rule is set last."""
    room = RoomBuilder(version)
    room.create()
    room.member(ALICE, "join")
    room.send("m.room.power_levels", ALICE, room.power_levels_content(), "")
    room.set_join_rule("public")
    for user in (ADMIN, MOD, USER):
        room.member(user, "join")
    if join_rule != "public":
        room.set_join_rule(join_rule)
    return room


def auth_dag_lookup(edges: Mapping[str, list[str]], event_type: str) -> EventLookup:
    """An ``EventLookup`` over bare ``event_type`` state events whose auth_events are
    ``edges`` (name -> parent names): just enough event for the auth-graph walks."""
    events = {}
    for name, parents in edges.items():
        pdu = {
            "type": event_type,
            "state_key": "",
            "sender": "@a:x",
            "room_id": "!r:x",
            "content": {},
            "origin_server_ts": 0,
            "depth": 1,
            "prev_events": [],
            "auth_events": parents,
            "hashes": {"sha256": "x"},
            "signatures": {},
        }
        events[name] = Event(pdu, V11, event_id=name)
    return EventLookup(events.get)
