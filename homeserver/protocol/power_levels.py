"""Power level arithmetic: reading ``m.room.power_levels`` and the room creators.

spec: client-server "m.room.power_levels"; server-server "Definitions" (required
power level, invite/kick/ban/redact levels); rooms/v1 "stringy" and "floaty" power
levels; rooms/v12 (creators have infinite power).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .room_versions import RoomVersion

# Greater than any power level an event can carry (those are at most 2**53 - 1):
# the "infinitely high" power level of room creators in v12.
INFINITE_POWER = 2**63

_STRINGY_INT = re.compile(r"^\s*[+-]?[0-9]+\s*$")

_LEVEL_KEYS = (
    "users_default",
    "events_default",
    "state_default",
    "ban",
    "kick",
    "redact",
    "invite",
)
_DEFAULTS: Mapping[str, int] = {
    "users_default": 0,
    "events_default": 0,
    "state_default": 50,
    "ban": 50,
    "kick": 50,
    "redact": 50,
    "invite": 0,
}


def parse_level(value: object, version: RoomVersion) -> int | None:
    """Read one power level value as the room version allows; ``None`` if invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and version.stringy_power_levels:
        if _STRINGY_INT.match(value):
            return int(value.strip())
        return None
    if isinstance(value, float) and version.floaty_power_levels:
        if math.isfinite(value):
            return math.trunc(value)
        return None
    return None


def _level_map(value: object, version: RoomVersion) -> dict[str, int]:
    if not isinstance(value, Mapping):
        return {}
    out: dict[str, int] = {}
    for key, raw in value.items():
        level = parse_level(raw, version)
        if isinstance(key, str) and level is not None:
            out[key] = level
    return out


@dataclass(frozen=True, slots=True)
class PowerLevels:
    """The effective levels of a room, defaults applied."""

    users: Mapping[str, int] = field(default_factory=dict)
    users_default: int = 0
    events: Mapping[str, int] = field(default_factory=dict)
    events_default: int = 0
    state_default: int = 50
    ban: int = 50
    kick: int = 50
    redact: int = 50
    invite: int = 0
    notifications: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_content(cls, content: Mapping[str, Any], version: RoomVersion) -> PowerLevels:
        """Effective levels from an ``m.room.power_levels`` content; bad values fall back
        to their defaults (auth rule 10 is what rejects them on new events)."""
        levels: dict[str, int] = {}
        for key in _LEVEL_KEYS:
            parsed = parse_level(content.get(key), version) if key in content else None
            levels[key] = _DEFAULTS[key] if parsed is None else parsed
        notifications = _level_map(content.get("notifications"), version)
        notifications.setdefault("room", 50)
        return cls(
            users=_level_map(content.get("users"), version),
            events=_level_map(content.get("events"), version),
            notifications=notifications,
            **levels,
        )

    @classmethod
    def absent(cls) -> PowerLevels:
        """Levels of a room with no power levels event: everything needs 0 but kick,
        ban and redact (50). spec: client-server "m.room.power_levels"."""
        return cls(state_default=0, notifications={"room": 50})

    def user_level(self, user_id: str) -> int:
        return self.users.get(user_id, self.users_default)

    def event_level(self, event_type: str, is_state: bool) -> int:
        """The *required power level* of server-server "Definitions"."""
        found = self.events.get(event_type)
        if found is not None:
            return found
        return self.state_default if is_state else self.events_default


def room_creators(
    create_sender: str, create_content: Mapping[str, Any], version: RoomVersion
) -> frozenset[str]:
    """The users with creator status.

    v1-v10: ``content.creator`` of the create event; v11: its sender;
    v12: its sender plus ``content.additional_creators``.
    """
    if not version.implicit_room_creator:
        creator = create_content.get("creator")
        return frozenset([creator]) if isinstance(creator, str) else frozenset()
    creators = {create_sender}
    if version.privileged_creators:
        extra = create_content.get("additional_creators")
        if isinstance(extra, list):
            creators.update(item for item in extra if isinstance(item, str))
    return frozenset(creators)


def user_power_level(
    user_id: str,
    power_levels_content: Mapping[str, Any] | None,
    creators: frozenset[str],
    version: RoomVersion,
) -> int:
    """A user's effective power level in a room.

    ``power_levels_content`` is ``None`` when the room has no power levels event;
    then the creator has 100 and everyone else 0.
    """
    if version.privileged_creators and user_id in creators:
        return INFINITE_POWER
    if power_levels_content is None:
        return 100 if user_id in creators else 0
    return PowerLevels.from_content(power_levels_content, version).user_level(user_id)
