"""Sync filters: parsing, validation and matching, as pure functions of JSON.

spec: client-server "Filtering" and ``POST /user/{userId}/filter`` (definitions
``EventFilter``, ``RoomEventFilter``, ``Filter``). An absent list means "no
restriction"; a ``not_*`` list wins over its positive list; ``*`` in a type
matches any sequence of characters. Bad filters are refused with 400
``M_BAD_JSON`` (wrong shapes) or ``M_INVALID_PARAM`` (out-of-range values).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from homeserver.errors import MatrixError

JsonDict = dict[str, Any]

DEFAULT_TIMELINE_LIMIT = 10
# spec: EventFilter.limit — "Servers should ... impose a maximum value".
MAX_LIMIT = 1000


def _bad(message: str) -> MatrixError:
    return MatrixError(400, "M_BAD_JSON", message)


@functools.lru_cache(maxsize=1024)
def _type_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def type_matches(pattern: str, event_type: str) -> bool:
    """spec: EventFilter.types — ``*`` matches any sequence of characters."""
    if "*" not in pattern:
        return pattern == event_type
    return _type_pattern(pattern).fullmatch(event_type) is not None


def _str_list(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...] | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _bad(f"`{where}{key}` must be a list of strings")
    return tuple(value)


def _opt_bool(raw: Mapping[str, Any], key: str, where: str) -> bool | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise _bad(f"`{where}{key}` must be true or false")
    return value


def _object(raw: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(f"`{where}{key}` must be an object")
    return value


@dataclass(frozen=True, slots=True)
class EventFilter:
    """spec: ``EventFilter`` (presence, global account data) and, with the room
    fields, ``RoomEventFilter`` (timeline, state, ephemeral, room account data)."""

    limit: int | None = None
    types: tuple[str, ...] | None = None
    not_types: tuple[str, ...] = ()
    senders: tuple[str, ...] | None = None
    not_senders: tuple[str, ...] = ()
    rooms: tuple[str, ...] | None = None
    not_rooms: tuple[str, ...] = ()
    contains_url: bool | None = None
    lazy_load_members: bool = False
    include_redundant_members: bool = False
    unread_thread_notifications: bool = False

    @classmethod
    def parse(cls, raw: Mapping[str, Any], where: str = "", *, room: bool = True) -> EventFilter:
        limit = raw.get("limit")
        if limit is not None:
            if not isinstance(limit, int) or isinstance(limit, bool):
                raise _bad(f"`{where}limit` must be an integer")
            if limit <= 0:
                raise MatrixError(400, "M_INVALID_PARAM", f"`{where}limit` must be positive")
        kwargs: dict[str, Any] = {
            "limit": limit,
            "types": _str_list(raw, "types", where),
            "not_types": _str_list(raw, "not_types", where) or (),
            "senders": _str_list(raw, "senders", where),
            "not_senders": _str_list(raw, "not_senders", where) or (),
        }
        if room:
            kwargs.update(
                rooms=_str_list(raw, "rooms", where),
                not_rooms=_str_list(raw, "not_rooms", where) or (),
                contains_url=_opt_bool(raw, "contains_url", where),
                lazy_load_members=bool(_opt_bool(raw, "lazy_load_members", where)),
                include_redundant_members=bool(_opt_bool(raw, "include_redundant_members", where)),
                unread_thread_notifications=bool(
                    _opt_bool(raw, "unread_thread_notifications", where)
                ),
            )
        return cls(**kwargs)

    def effective_limit(self, default: int) -> int:
        return min(self.limit if self.limit is not None else default, MAX_LIMIT)

    def allows_type(self, event_type: str) -> bool:
        if any(type_matches(p, event_type) for p in self.not_types):
            return False
        return self.types is None or any(type_matches(p, event_type) for p in self.types)

    def allows_sender(self, sender: str | None) -> bool:
        if sender is None:  # account data has no sender: sender lists do not apply
            return True
        if sender in self.not_senders:
            return False
        return self.senders is None or sender in self.senders

    def allows_room(self, room_id: str | None) -> bool:
        if room_id is None:
            return True
        if room_id in self.not_rooms:
            return False
        return self.rooms is None or room_id in self.rooms

    def matches(
        self,
        event_type: str,
        *,
        sender: str | None = None,
        room_id: str | None = None,
        content: Mapping[str, Any] | None = None,
    ) -> bool:
        if not (
            self.allows_type(event_type)
            and self.allows_sender(sender)
            and self.allows_room(room_id)
        ):
            return False
        if self.contains_url is not None:
            # spec: RoomEventFilter.contains_url — only events whose content has a `url`.
            has_url = content is not None and "url" in content
            if has_url != self.contains_url:
                return False
        return True

    @property
    def includes_nothing(self) -> bool:
        """``types: []`` — the client asked for no events of this kind at all."""
        return self.types is not None and not self.types


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
        raise _bad("A filter must be a JSON object")
    event_format = raw.get("event_format", "client")
    if event_format not in ("client", "federation"):
        raise _bad("`event_format` must be 'client' or 'federation'")
    event_fields = _str_list(raw, "event_fields", "")
    if event_fields is not None:
        for path in event_fields:
            if not path or path.startswith(".") or _split_path(path) is None:
                raise _bad(f"invalid event field {path!r}")
    room_raw = _object(raw, "room", "")
    room = RoomFilter(
        rooms=_str_list(room_raw, "rooms", "room."),
        not_rooms=_str_list(room_raw, "not_rooms", "room.") or (),
        include_leave=bool(_opt_bool(room_raw, "include_leave", "room.")),
        timeline=EventFilter.parse(_object(room_raw, "timeline", "room."), "room.timeline."),
        state=EventFilter.parse(_object(room_raw, "state", "room."), "room.state."),
        ephemeral=EventFilter.parse(_object(room_raw, "ephemeral", "room."), "room.ephemeral."),
        account_data=EventFilter.parse(
            _object(room_raw, "account_data", "room."), "room.account_data."
        ),
    )
    return SyncFilter(
        room=room,
        presence=EventFilter.parse(_object(raw, "presence", ""), "presence.", room=False),
        account_data=EventFilter.parse(
            _object(raw, "account_data", ""), "account_data.", room=False
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
