"""Room versions 1 to 12 as frozen data.

Every behavioural difference between room versions is one field here, so code asks
``version.knock_join_rule`` instead of comparing version strings.
spec: rooms/ (one page per version) and rooms/_index "Feature matrix".
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass

from .errors import UnknownRoomVersion


class EventIdFormat(enum.Enum):
    V1 = "v1"  # "$opaque:server", carried in the event (rooms v1, v2)
    V3 = "v3"  # "$" + standard unpadded base64 of the reference hash (v3)
    V4 = "v4"  # "$" + URL-safe unpadded base64 of the reference hash (v4+)


class StateResAlgorithm(enum.Enum):
    V1 = "v1"
    V2 = "v2"
    V2_1 = "v2.1"  # room v12: iterative auth checks from empty state, conflicted subgraph


@dataclass(frozen=True, slots=True)
class RoomVersion:
    identifier: str
    stable: bool
    event_id_format: EventIdFormat
    state_res: StateResAlgorithm
    # spec: v11 "Redactions" — fewer top-level keys, more content kept (MSC2176, MSC3821)
    updated_redaction_rules: bool
    # spec: v5 "Signing key validity period"
    enforce_key_validity: bool
    # spec: v1 auth rule 4 — m.room.aliases is authorized by sender domain only (v1-v5);
    # the same versions keep `aliases` when redacting m.room.aliases
    special_case_aliases_auth: bool
    # spec: v6 "Canonical JSON" — floats and out-of-range ints rejected
    strict_canonical_json: bool
    # spec: v6 auth rules — `notifications` in power levels are auth-checked
    limit_notifications_power_levels: bool
    # spec: v1 "stringy power levels" (v1-v9) and "floaty power levels" (v1-v5)
    stringy_power_levels: bool
    floaty_power_levels: bool
    # spec: v10 — power level values must be integers (the converse of stringy)
    enforce_int_power_levels: bool
    knock_join_rule: bool  # v7+
    # v8+: `restricted` join rule; redaction keeps join_rules `allow`
    restricted_join_rule: bool
    # v9+: join_authorised_via_users_server survives redaction
    restricted_join_rule_fix: bool
    knock_restricted_join_rule: bool  # v10+
    # v11: creator comes from the create event's sender, not content.creator
    implicit_room_creator: bool
    # v11: redaction events carry `redacts` inside content
    redacts_in_content: bool
    # v12: room id is "!" + the create event's reference hash; create has no room_id
    room_id_from_create_event: bool
    # v12: creators (sender + additional_creators) have infinite power level
    privileged_creators: bool
    # spec: v1 auth rule 11 — m.room.redaction is authorized by the redact level or by the
    # event id domains (v1, v2); v3+ moved these checks out of the auth rules.
    redaction_auth_rule: bool

    # v1/v2 events carry their own event_id field
    @property
    def event_id_in_event(self) -> bool:
        return self.event_id_format is EventIdFormat.V1


_V1 = RoomVersion(
    identifier="1",
    stable=True,
    event_id_format=EventIdFormat.V1,
    state_res=StateResAlgorithm.V1,
    updated_redaction_rules=False,
    enforce_key_validity=False,
    special_case_aliases_auth=True,
    strict_canonical_json=False,
    limit_notifications_power_levels=False,
    stringy_power_levels=True,
    floaty_power_levels=True,
    enforce_int_power_levels=False,
    knock_join_rule=False,
    restricted_join_rule=False,
    restricted_join_rule_fix=False,
    knock_restricted_join_rule=False,
    implicit_room_creator=False,
    redacts_in_content=False,
    room_id_from_create_event=False,
    privileged_creators=False,
    redaction_auth_rule=True,
)


def _next(base: RoomVersion, identifier: str, **changes: object) -> RoomVersion:
    return dataclasses.replace(base, identifier=identifier, **changes)  # type: ignore[arg-type]


_V2 = _next(_V1, "2", state_res=StateResAlgorithm.V2)
_V3 = _next(_V2, "3", event_id_format=EventIdFormat.V3, redaction_auth_rule=False)
_V4 = _next(_V3, "4", event_id_format=EventIdFormat.V4)
_V5 = _next(_V4, "5", enforce_key_validity=True)
_V6 = _next(
    _V5,
    "6",
    special_case_aliases_auth=False,
    strict_canonical_json=True,
    limit_notifications_power_levels=True,
    floaty_power_levels=False,
)
_V7 = _next(_V6, "7", knock_join_rule=True)
_V8 = _next(_V7, "8", restricted_join_rule=True)
_V9 = _next(_V8, "9", restricted_join_rule_fix=True)
_V10 = _next(
    _V9,
    "10",
    knock_restricted_join_rule=True,
    stringy_power_levels=False,
    enforce_int_power_levels=True,
)
_V11 = _next(
    _V10,
    "11",
    updated_redaction_rules=True,
    implicit_room_creator=True,
    redacts_in_content=True,
)
_V12 = _next(
    _V11,
    "12",
    state_res=StateResAlgorithm.V2_1,
    room_id_from_create_event=True,
    privileged_creators=True,
)

KNOWN_ROOM_VERSIONS: dict[str, RoomVersion] = {
    v.identifier: v for v in (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9, _V10, _V11, _V12)
}

DEFAULT_ROOM_VERSION: RoomVersion = _V12

# Exposed by name for readable tests and call sites.
V1, V2, V3, V4, V5, V6 = _V1, _V2, _V3, _V4, _V5, _V6
V7, V8, V9, V10, V11, V12 = _V7, _V8, _V9, _V10, _V11, _V12


def room_version(identifier: object) -> RoomVersion:
    """Look a room version up by its identifier, raising ``UnknownRoomVersion``."""
    if isinstance(identifier, str):
        found = KNOWN_ROOM_VERSIONS.get(identifier)
        if found is not None:
            return found
    raise UnknownRoomVersion(f"unknown room version: {identifier!r}")
