"""The m.room.power_levels authorization rule (rule 10 in v1-v5 and v12, 9 in v6-v11).

Values are read as the room version allows (``power_levels.parse_level``): strings that
are integers in v1-v9, floats in v1-v5, integers only from v10. "Added, changed or
removed" compares the parsed values, so ``"50"`` replacing ``50`` is no change.

spec: rooms/fragments/v1-auth-rules rule 10, v8-auth-rules rule 9, rooms/v10 rule 9,
rooms/v12 rule 10; rooms/fragments/v1-stringy-power-levels, v1-floaty-power-levels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .auth_context import RoomState, is_int, is_valid_user_id, reject
from .power_levels import parse_level
from .room_versions import RoomVersion

_SCALARS = ("users_default", "events_default", "state_default", "ban", "redact", "kick", "invite")


def check_power_levels(room: RoomState, sender_level: int) -> None:
    """Allow (return) or reject (raise ``AuthError``) an m.room.power_levels event."""
    event = room.event
    content = event.content
    version = room.version
    nums = room.nums
    r = nums.power_levels

    if version.enforce_int_power_levels:
        # spec: v10+ rules 9.1 and 9.2 (10.1, 10.2 in v12)
        for key in _SCALARS:
            if key in content and not is_int(content[key]):
                raise reject(f"{r}.1", f"{key} must be an integer")
        for key in ("events", "notifications"):
            if key in content:
                value = content[key]
                if not isinstance(value, dict) or not all(is_int(x) for x in value.values()):
                    raise reject(f"{r}.2", f"{key} must be an object of integers")

    if version.floaty_power_levels and _has_non_finite_level(content):
        # spec: rooms/fragments/v1-floaty-power-levels — "Values outside the range
        # represented by IEEE754 binary64 ... Infinity, -Infinity and NaN" reject the event.
        raise reject(str(r), "power levels must be finite numbers")

    users: Mapping[str, Any] = {}
    if "users" in content:
        raw_users = content["users"]
        if not isinstance(raw_users, dict):
            raise reject(f"{r}.{nums.pl_users}", "users must be an object")
        for user_id, level in raw_users.items():
            if not is_valid_user_id(user_id):
                raise reject(f"{r}.{nums.pl_users}", f"{user_id!r} in users is not a user id")
            if parse_level(level, version) is None:
                raise reject(
                    f"{r}.{nums.pl_users}", f"level {level!r} of {user_id} is not an integer"
                )
        users = raw_users

    if nums.pl_creators:
        # spec: rooms/v12 rule 10.4 — creators' power cannot be written down (or changed).
        for creator in sorted(room.creators):
            if creator in users:
                raise reject(f"{r}.{nums.pl_creators}", f"users must not list creator {creator}")

    previous = room.power_event
    if previous is None:
        return  # spec: "if there is no previous m.room.power_levels event, allow"
    old = previous.content

    n = f"{r}.{nums.pl_scalars}"
    for key in _SCALARS:
        old_level = _old_level(old, key, version)
        new_level = _new_level(content, key, version, n)
        if old_level == new_level:
            continue
        if old_level is not None and old_level > sender_level:
            raise reject(
                f"{n}.1", f"current {key} {old_level} is above the sender's {sender_level}"
            )
        if new_level is not None and new_level > sender_level:
            raise reject(f"{n}.2", f"new {key} {new_level} is above the sender's {sender_level}")

    map_keys = ["events"]
    if version.limit_notifications_power_levels:
        map_keys.append("notifications")  # spec: v6+ notifications are auth-checked
    removed = f"{r}.{nums.pl_maps_removed}.1"
    added = f"{r}.{nums.pl_maps_added}.1"
    for map_key in map_keys:
        old_map = _as_map(old.get(map_key))
        new_map = _new_map(content, map_key, added)
        for key in _union(old_map, new_map):
            old_level = _old_level(old_map, key, version)
            new_level = _new_level(new_map, key, version, added)
            if old_level == new_level:
                continue
            if old_level is not None and old_level > sender_level:
                raise reject(removed, f"current {map_key}[{key!r}] {old_level} is above the sender")
            if new_level is not None and new_level > sender_level:
                raise reject(added, f"new {map_key}[{key!r}] {new_level} is above the sender")

    removed = f"{r}.{nums.pl_users_removed}.1"
    added = f"{r}.{nums.pl_users_added}.1"
    old_users = _as_map(old.get("users"))
    for user_id in _union(old_users, users):
        old_level = _old_level(old_users, user_id, version)
        new_level = parse_level(users[user_id], version) if user_id in users else None
        if old_level == new_level:
            continue
        if user_id != event.sender and old_level is not None and old_level >= sender_level:
            raise reject(removed, f"cannot change {user_id} at level {old_level}")
        if new_level is not None and new_level > sender_level:
            raise reject(added, f"cannot give {user_id} level {new_level}")


def _as_map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _union(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return list(dict.fromkeys([*old, *new]))


def _old_level(content: Mapping[str, Any], key: str, version: RoomVersion) -> int | None:
    """The current value; one that is not a valid level counts as absent."""
    return parse_level(content[key], version) if key in content else None


def _new_level(content: Mapping[str, Any], key: str, version: RoomVersion, rule: str) -> int | None:
    """The new value. In v1-v9 the rules do not spell out that the values must be
    (stringy) integers, but they cannot be compared otherwise: reject, as Synapse does."""
    if key not in content:
        return None
    level = parse_level(content[key], version)
    if level is None:
        raise reject(rule, f"{key} = {content[key]!r} is not a valid power level")
    return level


def _new_map(content: Mapping[str, Any], key: str, rule: str) -> Mapping[str, Any]:
    if key not in content:
        return {}
    value = content[key]
    if not isinstance(value, dict):
        raise reject(rule, f"{key} must be an object")
    return value


def _has_non_finite_level(content: Mapping[str, Any]) -> bool:
    values: list[object] = [content.get(key) for key in _SCALARS]
    for key in ("users", "events", "notifications"):
        nested = content.get(key)
        if isinstance(nested, dict):
            values.extend(nested.values())
    return any(isinstance(v, float) and not math.isfinite(v) for v in values)
