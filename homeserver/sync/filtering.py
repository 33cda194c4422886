"""Sync filters: parsing, validation and matching, as pure functions of JSON.

spec: client-server "Filtering" and ``POST /user/{userId}/filter`` (definitions
``EventFilter``, ``RoomEventFilter``, ``Filter``). An absent list means "no
restriction"; a ``not_*`` list wins over its positive list; ``*`` in a type
matches any sequence of characters. Bad filters are refused with 400
``M_BAD_JSON`` (wrong shapes) or ``M_INVALID_PARAM`` (out-of-range values).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from homeserver.rooms.event_filter import (
    MAX_LIMIT,
    EventFilter,
    filter_error,
    opt_bool,
    str_list,
    sub_object,
    type_matches,
)

__all__ = ["MAX_LIMIT", "EventFilter", "RoomFilter", "SyncFilter", "parse_filter", "type_matches"]

JsonDict = dict[str, Any]

DEFAULT_TIMELINE_LIMIT = 10


@dataclass(frozen=True, slots=True)
class RoomFilter:
    rooms: tuple[str, ...] | None = None
    not_rooms: tuple[str, ...] = ()
    include_leave: bool = False
    timeline: EventFilter = field(default_factory=EventFilter)
    state: EventFilter = field(default_factory=EventFilter)
    ephemeral: EventFilter = field(default_factory=EventFilter)
    account_data: EventFilter = field(default_factory=EventFilter)

    def allows_room(self, room_id: str) -> bool:
        """spec: RoomFilter.rooms / not_rooms apply before the section filters."""
        if room_id in self.not_rooms:
            return False
        return self.rooms is None or room_id in self.rooms


@dataclass(frozen=True, slots=True)
class SyncFilter:
    """spec: the ``Filter`` object a client uploads or passes inline to ``/sync``."""

    room: RoomFilter = field(default_factory=RoomFilter)
    presence: EventFilter = field(default_factory=EventFilter)
    account_data: EventFilter = field(default_factory=EventFilter)
    event_fields: tuple[str, ...] | None = None
    event_format: str = "client"

    @property
    def timeline_limit(self) -> int:
        return self.room.timeline.effective_limit(DEFAULT_TIMELINE_LIMIT)


def parse_filter(raw: object) -> SyncFilter:
    """Validate a filter definition; raises 400 ``M_BAD_JSON``/``M_INVALID_PARAM``."""
    if not isinstance(raw, dict):
        raise filter_error("A filter must be a JSON object")
    event_format = raw.get("event_format", "client")
    if event_format not in ("client", "federation"):
        raise filter_error("`event_format` must be 'client' or 'federation'")
    event_fields = str_list(raw, "event_fields", "")
    if event_fields is not None:
        for path in event_fields:
            if not path or path.startswith(".") or _split_path(path) is None:
                raise filter_error(f"invalid event field {path!r}")
    room_raw = sub_object(raw, "room", "")
    room = RoomFilter(
        rooms=str_list(room_raw, "rooms", "room."),
        not_rooms=str_list(room_raw, "not_rooms", "room.") or (),
        include_leave=bool(opt_bool(room_raw, "include_leave", "room.")),
        timeline=EventFilter.parse(sub_object(room_raw, "timeline", "room."), "room.timeline."),
        state=EventFilter.parse(sub_object(room_raw, "state", "room."), "room.state."),
        ephemeral=EventFilter.parse(sub_object(room_raw, "ephemeral", "room."), "room.ephemeral."),
        account_data=EventFilter.parse(
            sub_object(room_raw, "account_data", "room."), "room.account_data."
        ),
    )
    return SyncFilter(
        room=room,
        presence=EventFilter.parse(sub_object(raw, "presence", ""), "presence.", room=False),
        account_data=EventFilter.parse(
            sub_object(raw, "account_data", ""), "account_data.", room=False
        ),
        event_fields=event_fields,
        event_format=event_format,
    )


# ---------------------------------------------------------------- event_fields


def _split_path(path: str) -> list[str] | None:
    """spec: appendices "Dot-separated property paths" — ``\\.`` is a literal dot,
    ``\\\\`` a literal backslash, other escapes are kept as they are."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(path):
        char = path[i]
        if char == "\\" and i + 1 < len(path) and path[i + 1] in ".\\":
            current.append(path[i + 1])
            i += 2
            continue
        if char == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    parts.append("".join(current))
    if any(not part for part in parts):
        return None
    return parts


def _copy_path(source: Mapping[str, Any], target: JsonDict, parts: Sequence[str]) -> None:
    value: Any = source
    for part in parts:
        if not isinstance(value, Mapping) or part not in value:
            return  # absent: nothing is copied, not even the parents
        value = value[part]
    for part in parts[:-1]:
        child = target.get(part)
        if not isinstance(child, dict):
            child = target[part] = {}
        target = child
    target[parts[-1]] = value


def only_fields(event: Mapping[str, Any], fields: Sequence[str]) -> JsonDict:
    """spec: Filter.event_fields — keep only the listed (dot-separated) fields."""
    out: JsonDict = {}
    for path in fields:
        parts = _split_path(path)
        if parts is not None:
            _copy_path(event, out, parts)
    return out
