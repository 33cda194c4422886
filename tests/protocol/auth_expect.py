"""Expected rule numbers per room version, written out from the spec text, and helpers
to assert an allow or a rejection by a given rule.

Kept independent of ``homeserver.protocol.auth_context.RuleNumbers`` (which derives the
numbers from version flags) so that a numbering mistake there shows up here.
spec: rooms/fragments/v1-auth-rules (v1-v2), v3-auth-rules (v3-v5), rooms/v6, rooms/v7,
fragments/v8-auth-rules (v8-v9), rooms/v10, v11, v12.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from homeserver.protocol.auth import check_auth_rules
from homeserver.protocol.errors import AuthError
from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import KNOWN_ROOM_VERSIONS, RoomVersion

_TOP_V1 = {
    "auth_events": 2,
    "federate": 3,
    "aliases": 4,
    "member": 5,
    "joined": 6,
    "tpi": 7,
    "required": 8,
    "state_key": 9,
    "pl": 10,
    "redaction": 11,
}
_TOP_V3 = {k: v for k, v in _TOP_V1.items() if k != "redaction"}
_TOP_V6 = {
    "auth_events": 2,
    "federate": 3,
    "member": 4,
    "joined": 5,
    "tpi": 6,
    "required": 7,
    "state_key": 8,
    "pl": 9,
}
_TOP_V12 = {
    "auth_events": 3,
    "federate": 4,
    "member": 5,
    "joined": 6,
    "tpi": 7,
    "required": 8,
    "state_key": 9,
    "pl": 10,
}
# membership sub-rules
_MEMBER_V1 = {"join": 2, "invite": 3, "leave": 4, "ban": 5, "unknown": 6}
_MEMBER_V7 = {"join": 2, "invite": 3, "leave": 4, "ban": 5, "knock": 6, "unknown": 7}
_MEMBER_V8 = {
    "authoriser": 2,
    "join": 3,
    "invite": 4,
    "leave": 5,
    "ban": 6,
    "knock": 7,
    "unknown": 8,
}
# join sub-rules
_JOIN_V1 = {"public": 5, "otherwise": 6}
_JOIN_V8 = {"restricted": 5, "public": 6, "otherwise": 7}
# power level sub-rules
_PL_V1 = {
    "users": 1,
    "scalars": 3,
    "maps_removed": 4,
    "maps_added": 5,
    "users_removed": 6,
    "users_added": 7,
}
_PL_V10 = {
    "scalars_int": 1,
    "maps_int": 2,
    "users": 3,
    "scalars": 5,
    "maps_removed": 6,
    "maps_added": 7,
    "users_removed": 8,
    "users_added": 9,
}
_PL_V12 = {
    "scalars_int": 1,
    "maps_int": 2,
    "users": 3,
    "creators": 4,
    "scalars": 6,
    "maps_removed": 7,
    "maps_added": 8,
    "users_removed": 9,
    "users_added": 10,
}


def _n(version: RoomVersion) -> int:
    return int(version.identifier)


def top(version: RoomVersion, name: str) -> int:
    n = _n(version)
    table = _TOP_V1 if n <= 2 else _TOP_V3 if n <= 5 else _TOP_V6 if n <= 11 else _TOP_V12
    return table[name]


def member(version: RoomVersion, name: str) -> str:
    n = _n(version)
    table = _MEMBER_V1 if n <= 6 else _MEMBER_V7 if n == 7 else _MEMBER_V8
    return f"{top(version, 'member')}.{table[name]}"


def join(version: RoomVersion, sub: int | str) -> str:
    table = _JOIN_V1 if _n(version) <= 7 else _JOIN_V8
    if isinstance(sub, str) and sub in table:
        sub = table[sub]
    return f"{member(version, 'join')}.{sub}"


def pl(version: RoomVersion, name: str) -> str:
    n = _n(version)
    table = _PL_V1 if n <= 9 else _PL_V10 if n <= 11 else _PL_V12
    return f"{top(version, 'pl')}.{table[name]}"


def versions(predicate: object = None) -> list[RoomVersion]:
    """The known room versions, optionally filtered by a predicate on the version."""
    found = list(KNOWN_ROOM_VERSIONS.values())
    if callable(predicate):
        found = [v for v in found if predicate(v)]
    return found


def version_params(predicate: object = None) -> list[object]:
    return [pytest.param(v, id=f"v{v.identifier}") for v in versions(predicate)]


def allowed(event: Event, state: Mapping[tuple[str, str], Event]) -> None:
    check_auth_rules(event, state)


def rejected(event: Event, state: Mapping[tuple[str, str], Event], rule: str | int) -> None:
    """Assert that the rules reject ``event`` and that the error names ``rule``."""
    with pytest.raises(AuthError) as info:
        check_auth_rules(event, state)
    message = str(info.value)
    assert message.startswith(f"rule {rule}:") or message.startswith(f"rule {rule}."), message
