"""The authorization rules of room versions 1 to 12.

``check_auth_rules(event, state)`` decides whether ``event`` is allowed given a room
state (its auth events, or the state before it, or the current state: server-server
"Checks performed on receipt of a PDU" steps 4-6). The checks on the auth events list
itself (rule 2, rule 3 in v12) are ``auth_events.check_auth_events``.

Every rejection is an ``AuthError`` whose message names the rule as numbered for the
event's room version ("rule 5.3.2: ..."); malformed content never raises anything else.

spec: rooms/fragments/v1-auth-rules (v1, v2), v3-auth-rules (v3-v5), rooms/v6, v7,
fragments/v8-auth-rules (v8, v9), rooms/v10, v11, v12 "Authorization rules".
"""

from __future__ import annotations

from collections.abc import Mapping

from .auth_context import (
    ALIASES,
    CREATE,
    MEMBER,
    POWER_LEVELS,
    REDACTION,
    THIRD_PARTY_INVITE,
    RoomState,
    StateKey,
    domain_of,
    is_valid_user_id,
    reject,
    rule_numbers,
)
from .auth_membership import check_membership
from .auth_power_levels import check_power_levels
from .events import Event, room_id_for_create_event
from .room_versions import KNOWN_ROOM_VERSIONS

__all__ = ["StateKey", "check_auth_rules"]


def check_auth_rules(event: Event, state: Mapping[StateKey, Event]) -> None:
    """Raise ``AuthError`` unless ``event`` is allowed by the rules of its room version
    given ``state`` (keyed by ``(type, state_key)``; it must hold the m.room.create
    event, also in v12 where the create is not an auth event)."""
    version = event.room_version
    nums = rule_numbers(version)

    # spec: rule 1 "If type is m.room.create" — whatever the state_key; such an event is
    # judged on its own (and, having prev_events, rejected anywhere but at the start).
    if event.type == CREATE:
        _check_create(event)
        return

    create = state.get((CREATE, ""))
    if version.room_id_from_create_event:
        # spec: rooms/v12 rule 2
        if create is None:
            raise reject("2", "no m.room.create event in the room state")
        if create.rejected:
            raise reject("2", f"the m.room.create event {create.event_id} was rejected")
        if event.room_id != room_id_for_create_event(create.event_id):
            raise reject(
                "2", f"room id {event.room_id} is not the id of create event {create.event_id}"
            )
    else:
        # spec: rule 2.4 — the rules cannot be evaluated without the create event.
        if create is None:
            raise reject(f"{nums.auth_events}.4", "no m.room.create event in the room state")
        if create.room_id != event.room_id:
            raise reject(
                f"{nums.auth_events}.5",
                f"m.room.create {create.event_id} belongs to room {create.room_id}",
            )

    room = RoomState(event, state, create, nums)

    # spec: rule 3 (4 in v12) — m.federate
    if create.content.get("m.federate") is False and domain_of(event.sender) != domain_of(
        create.sender
    ):
        raise reject(str(nums.federate), "the room is not federated (m.federate is false)")

    # spec: v1-v5 rule 4 — aliases are authorized by the sender's domain alone
    if nums.aliases and event.type == ALIASES:
        if event.state_key is None:
            raise reject(f"{nums.aliases}.1", "m.room.aliases must have a state_key")
        if domain_of(event.sender) != event.state_key:
            raise reject(f"{nums.aliases}.2", "state_key is not the sender's domain")
        return

    if event.type == MEMBER:
        check_membership(room)
        return

    # spec: rule "if the sender's current membership state is not join, reject"
    if room.membership(event.sender) != "join":
        raise reject(str(nums.sender_joined), f"{event.sender} is not joined to the room")

    sender_level = room.user_level(event.sender)

    if event.type == THIRD_PARTY_INVITE:
        if sender_level >= room.levels.invite:
            return
        raise reject(
            f"{nums.third_party_invite}.1",
            f"sender level {sender_level} is below the invite level {room.levels.invite}",
        )

    required = room.levels.event_level(event.type, event.is_state)
    if required > sender_level:
        raise reject(
            str(nums.required_level),
            f"{event.type} needs power level {required}; the sender has {sender_level}",
        )

    if (
        event.state_key is not None
        and event.state_key.startswith("@")
        and event.state_key != event.sender
    ):
        raise reject(str(nums.state_key_sender), "a state_key starting with '@' must be the sender")

    if event.type == POWER_LEVELS:
        check_power_levels(room, sender_level)
        return

    if nums.redaction and event.type == REDACTION:
        _check_v1_redaction(room, sender_level)


def _check_create(event: Event) -> None:
    """spec: rule 1 (all versions)."""
    version = event.room_version
    if event.prev_event_ids:
        raise reject("1.1", "m.room.create must not have prev_events")
    if version.room_id_from_create_event:
        # spec: rooms/v12 rule 1.2 — the room id is derived from the create event id.
        if "room_id" in event.pdu:
            raise reject("1.2", "m.room.create must not have a room_id")
    else:
        room_domain = domain_of(event.room_id)
        if room_domain is None or room_domain != domain_of(event.sender):
            raise reject("1.2", "the room id domain is not the sender's domain")
    content = event.content
    if "room_version" in content:
        room_version = content["room_version"]
        if not isinstance(room_version, str) or room_version not in KNOWN_ROOM_VERSIONS:
            raise reject("1.3", f"unknown room version {room_version!r}")
    if not version.implicit_room_creator and "creator" not in content:
        # spec: v1-v10 rule 1.4
        raise reject("1.4", "m.room.create content has no creator")
    if version.privileged_creators and "additional_creators" in content:
        # spec: rooms/v12 rule 1.4
        extra = content["additional_creators"]
        if not isinstance(extra, list) or not all(is_valid_user_id(item) for item in extra):
            raise reject("1.4", "additional_creators must be an array of user ids")


def _check_v1_redaction(room: RoomState, sender_level: int) -> None:
    """spec: rooms v1/v2 rule 11 — later versions check redactions outside auth."""
    n = room.nums.redaction
    event = room.event
    if sender_level >= room.levels.redact:
        return
    redacts = event.redacts
    redacts_domain = domain_of(redacts) if redacts is not None else None
    if redacts_domain is not None and redacts_domain == domain_of(event.event_id):
        return
    raise reject(
        f"{n}.3",
        "the sender is below the redact level and the redacted event is from another server",
    )
