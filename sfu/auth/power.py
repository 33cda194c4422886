"""Power levels as the SFU needs them: may this member mute that one?

spec: client-server "m.room.power_levels" (``kick`` defaults to 50, ``users_default`` to
0; without a power levels event the room creator has 100, everyone else 0) and room
version 12 (the creators, the create event's sender and ``additional_creators``, rank
above every power level). A pure function of the room's state events.
"""

from __future__ import annotations

import math
from typing import Any

# Room versions whose creators have "infinite" power (spec: room version 12).
PRIVILEGED_CREATOR_VERSIONS = frozenset({"12", "org.matrix.hydra.11"})
DEFAULT_KICK = 50


def _int(value: Any, default: float) -> float:
    # Old room versions allow numeric strings ("50") in power levels.
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-+").isdigit():
        return int(value)
    return default


class RoomPower:
    def __init__(self, state: list[Any]) -> None:
        by_key = {
            (e.get("type"), e.get("state_key")): e
            for e in state
            if isinstance(e, dict) and isinstance(e.get("content"), dict)
        }
        create = by_key.get(("m.room.create", ""), {})
        self.creator = create.get("sender")
        content = create.get("content", {})
        version = str(content.get("room_version", "1"))
        self.creators: frozenset[str] = frozenset()
        if version in PRIVILEGED_CREATOR_VERSIONS:
            extra = content.get("additional_creators")
            extra = [u for u in extra if isinstance(u, str)] if isinstance(extra, list) else []
            self.creators = frozenset([self.creator, *extra]) if self.creator else frozenset()
        self.levels = by_key.get(("m.room.power_levels", ""), {}).get("content")

    def level(self, user_id: str) -> float:
        if user_id in self.creators:
            return math.inf
        if not isinstance(self.levels, dict):
            return 100 if user_id == self.creator else 0
        users = self.levels.get("users")
        default = _int(self.levels.get("users_default"), 0)
        if isinstance(users, dict) and user_id in users:
            return _int(users[user_id], default)
        return default

    def kick_level(self) -> float:
        if not isinstance(self.levels, dict):
            return DEFAULT_KICK
        return _int(self.levels.get("kick"), DEFAULT_KICK)

    def may_moderate(self, moderator: str, target: str) -> bool:
        """At least the ``kick`` level and above the target (as for kicking them)."""
        mine = self.level(moderator)
        return mine >= self.kick_level() and mine > self.level(target)
