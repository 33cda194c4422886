"""A room as another server holds it: builds its events, signed with that server's key.

Tests hand these events to our side as a peer would, to check what we make of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from homeserver.protocol.auth_events import auth_types_for_event
from homeserver.protocol.builder import build_event
from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import RoomVersion
from homeserver.protocol.signing import SigningKey

REMOTE = "remote.test"
REMOTE_KEY = SigningKey.from_seed(REMOTE, "r_1", b"\x07" * 32)


class RemoteRoom:
    """The room's events and the state after each, as the remote server sees them."""

    def __init__(self, version: RoomVersion, creator: str, key: SigningKey = REMOTE_KEY) -> None:
        self.version = version
        self.key = key
        self.events: dict[str, Event] = {}
        self.state_after: dict[str, dict[tuple[str, str], str]] = {}
        self.ts = 1_700_000_000_000
        self.room_id: str | None = None
        if not version.room_id_from_create_event:
            self.room_id = f"!r{len(creator)}x{version.identifier}:{REMOTE}"
        create_content = {"room_version": version.identifier}
        if not version.implicit_room_creator:
            create_content["creator"] = creator
        create = self.build(creator, "m.room.create", create_content, state_key="", prev=[])
        self.room_id = create.room_id
        self.add(create)
        self.create = create
        self.head = create.event_id
        self.build_and_add(creator, "m.room.member", {"membership": "join"}, state_key=creator)
        # rooms/v12: creators have infinite power and are not listed.
        users = {} if version.privileged_creators else {creator: 100}
        self.build_and_add(creator, "m.room.power_levels", {"users": users}, state_key="")
        self.build_and_add(creator, "m.room.join_rules", {"join_rule": "public"}, state_key="")
        self.build_and_add(
            creator, "m.room.history_visibility", {"history_visibility": "shared"}, state_key=""
        )

    def state(self, at: str | None = None) -> dict[tuple[str, str], str]:
        return dict(self.state_after[at or self.head])

    def build(
        self,
        sender: str,
        event_type: str,
        content: Mapping[str, Any],
        *,
        state_key: str | None = None,
        prev: Sequence[str] | None = None,
        key: SigningKey | None = None,
        auth_from: str | None = None,
    ) -> Event:
        """An event after ``prev`` (default: the head), its auth events chosen from the
        state after ``auth_from`` (default: its first prev event)."""
        prev = [self.head] if prev is None else list(prev)
        state = self.state_after.get(auth_from or (prev[0] if prev else ""), {})
        keys = auth_types_for_event(self.version, event_type, state_key, sender, dict(content))
        auth = [state[k] for k in keys if k in state]
        depth = max((self.events[p].depth for p in prev), default=0) + 1
        self.ts += 1
        event = build_event(
            version=self.version,
            room_id=self.room_id,
            sender=sender,
            event_type=event_type,
            content=content,
            prev_events=prev,
            auth_events=auth,
            depth=depth,
            origin_server_ts=self.ts,
            key=key or self.key,
            state_key=state_key,
        )
        return event

    def add(self, event: Event) -> Event:
        """Record ``event`` as part of the room (the remote accepted it)."""
        before: dict[tuple[str, str], str] = {}
        if event.prev_event_ids:
            before = dict(self.state_after[event.prev_event_ids[0]])
        if event.state_key is not None:
            before[event.state_tuple] = event.event_id
        self.events[event.event_id] = event
        self.state_after[event.event_id] = before
        self.head = event.event_id
        return event

    def build_and_add(
        self, sender: str, event_type: str, content: Mapping[str, Any], **kw: Any
    ) -> Event:
        return self.add(self.build(sender, event_type, content, **kw))

    def auth_chain(self, event_ids: Sequence[str]) -> list[Event]:
        seen: dict[str, Event] = {}
        todo = list(event_ids)
        while todo:
            event = self.events[todo.pop()]
            for auth_id in event.auth_event_ids:
                if auth_id not in seen:
                    seen[auth_id] = self.events[auth_id]
                    todo.append(auth_id)
        return list(seen.values())

    def state_events(self, at: str | None = None) -> list[Event]:
        return [self.events[i] for i in self.state(at).values()]
