"""Event filters: which events a client asked for, as pure functions of JSON.

spec: client-server "Filtering" — the ``EventFilter`` and ``RoomEventFilter``
definitions used by ``/sync``, ``/messages`` and ``/context``. An absent list means
"no restriction"; a ``not_*`` list wins over its positive list; ``*`` in a type
matches any sequence of characters (ids match exactly). Bad filters are refused with
400 ``M_BAD_JSON`` (wrong shapes) or ``M_INVALID_PARAM`` (out-of-range values).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeserver.errors import MatrixError
from homeserver.protocol.events import Event

# spec: EventFilter.limit — "Servers should ... impose a maximum value".
MAX_LIMIT = 1000


def filter_error(message: str) -> MatrixError:
    return MatrixError(400, "M_BAD_JSON", message)


@functools.lru_cache(maxsize=1024)
def _type_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def type_matches(pattern: str, event_type: str) -> bool:
    """spec: EventFilter.types — ``*`` matches any sequence of characters."""
    if "*" not in pattern:
        return pattern == event_type
    return _type_pattern(pattern).fullmatch(event_type) is not None


def str_list(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...] | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise filter_error(f"`{where}{key}` must be a list of strings")
    return tuple(value)


def opt_bool(raw: Mapping[str, Any], key: str, where: str) -> bool | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise filter_error(f"`{where}{key}` must be true or false")
    return value


def sub_object(raw: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise filter_error(f"`{where}{key}` must be an object")
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
                raise filter_error(f"`{where}limit` must be an integer")
            if limit <= 0:
                raise MatrixError(400, "M_INVALID_PARAM", f"`{where}limit` must be positive")
        kwargs: dict[str, Any] = {
            "limit": limit,
            "types": str_list(raw, "types", where),
            "not_types": str_list(raw, "not_types", where) or (),
            "senders": str_list(raw, "senders", where),
            "not_senders": str_list(raw, "not_senders", where) or (),
        }
        if room:
            kwargs.update(
                rooms=str_list(raw, "rooms", where),
                not_rooms=str_list(raw, "not_rooms", where) or (),
                contains_url=opt_bool(raw, "contains_url", where),
                lazy_load_members=bool(opt_bool(raw, "lazy_load_members", where)),
                include_redundant_members=bool(opt_bool(raw, "include_redundant_members", where)),
                unread_thread_notifications=bool(
                    opt_bool(raw, "unread_thread_notifications", where)
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

    @classmethod
    def from_json(cls, body: object) -> EventFilter:
        """A ``RoomEventFilter`` given as a JSON value (it must be an object)."""
        if not isinstance(body, dict):
            raise filter_error("filter must be a JSON object")
        return cls.parse(body)

    @classmethod
    def from_query(cls, text: str | None) -> EventFilter:
        """The ``filter`` query parameter of ``/messages`` and ``/context``."""
        if text is None or text == "":
            return cls()
        try:
            body = json.loads(text)
        except ValueError:
            raise MatrixError(400, "M_NOT_JSON", "`filter` is not valid JSON") from None
        return cls.from_json(body)

    def matches_event(self, event: Event) -> bool:
        return self.matches(
            event.type, sender=event.sender, room_id=event.room_id, content=event.content
        )
