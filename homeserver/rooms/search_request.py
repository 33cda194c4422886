"""``POST /search`` request bodies and ``next_batch`` tokens, as pure functions of JSON.

spec: client-server "Server Side Search" and ``POST /search`` (search.yaml). Wrong
shapes are 400 ``M_BAD_JSON``; values out of range or unknown (a category, key,
ordering or group key we do not know, a token we did not issue) are 400
``M_INVALID_PARAM``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeserver.errors import MatrixError

from .event_filter import EventFilter
from .search_text import ALL_KEYS

RANK = "rank"
RECENT = "recent"
GROUP_KEYS = ("room_id", "sender")
# spec: event_context before_limit / after_limit default to 5.
DEFAULT_CONTEXT = 5
MAX_CONTEXT = 100
# spec: "limit" of the RoomEventFilter; results per page.
DEFAULT_LIMIT = 10
MAX_LIMIT = 100


def bad_json(message: str) -> MatrixError:
    return MatrixError(400, "M_BAD_JSON", message)


def invalid(message: str) -> MatrixError:
    return MatrixError(400, "M_INVALID_PARAM", message)


@dataclass(frozen=True, slots=True)
class EventContext:
    before_limit: int = DEFAULT_CONTEXT
    after_limit: int = DEFAULT_CONTEXT
    include_profile: bool = False


@dataclass(frozen=True, slots=True)
class RoomEventsCriteria:
    """spec: search.yaml "Room Events Criteria"."""

    search_term: str
    keys: tuple[str, ...] = ALL_KEYS
    flt: EventFilter = dataclasses.field(default_factory=EventFilter)
    order_by: str = RANK
    event_context: EventContext | None = None
    include_state: bool = False
    group_by: tuple[str, ...] = ()

    @property
    def limit(self) -> int:
        return min(self.flt.limit if self.flt.limit is not None else DEFAULT_LIMIT, MAX_LIMIT)


def _object(raw: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any] | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_json(f"`{where}{key}` must be an object")
    return value


def _bool(raw: Mapping[str, Any], key: str, where: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise bad_json(f"`{where}{key}` must be true or false")
    return value


def _limit(raw: Mapping[str, Any], key: str, where: str) -> int:
    value = raw.get(key, DEFAULT_CONTEXT)
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad_json(f"`{where}{key}` must be an integer")
    if value < 0:
        raise invalid(f"`{where}{key}` must not be negative")
    return min(value, MAX_CONTEXT)


def _keys(raw: Mapping[str, Any], where: str) -> tuple[str, ...]:
    value = raw.get("keys")
    if value is None:
        return ALL_KEYS
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise bad_json(f"`{where}keys` must be a list of strings")
    unknown = [item for item in value if item not in ALL_KEYS]
    if unknown:
        raise invalid(f"`{where}keys` holds unknown keys {unknown}; known: {list(ALL_KEYS)}")
    # spec: "The keys to search. Defaults to all." An empty list is taken as absent.
    return tuple(dict.fromkeys(value)) or ALL_KEYS


def _group_by(raw: Mapping[str, Any], where: str) -> tuple[str, ...]:
    groupings = _object(raw, "groupings", where)
    if groupings is None:
        return ()
    items = groupings.get("group_by")
    if items is None:
        return ()
    if not isinstance(items, list):
        raise bad_json(f"`{where}groupings.group_by` must be a list")
    keys: list[str] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise bad_json(f"`{where}groupings.group_by` items must be objects with a `key`")
        if item["key"] not in GROUP_KEYS:
            raise invalid(f"unknown group key {item['key']!r}; known: {list(GROUP_KEYS)}")
        keys.append(item["key"])
    return tuple(dict.fromkeys(keys))


def parse_room_events(raw: Mapping[str, Any]) -> RoomEventsCriteria:
    where = "search_categories.room_events."
    term = raw.get("search_term")
    if not isinstance(term, str):
        raise bad_json(f"`{where}search_term` is required and must be a string")
    filter_raw = _object(raw, "filter", where)
    flt = (
        EventFilter.parse(filter_raw, f"{where}filter.")
        if filter_raw is not None
        else EventFilter()
    )
    order_by = raw.get("order_by", RANK)
    if not isinstance(order_by, str):
        raise bad_json(f"`{where}order_by` must be a string")
    if order_by not in (RANK, RECENT):
        raise invalid(f"`{where}order_by` must be `rank` or `recent`")
    context_raw = _object(raw, "event_context", where)
    context = None
    if context_raw is not None:
        at = f"{where}event_context."
        context = EventContext(
            before_limit=_limit(context_raw, "before_limit", at),
            after_limit=_limit(context_raw, "after_limit", at),
            include_profile=_bool(context_raw, "include_profile", at),
        )
    return RoomEventsCriteria(
        search_term=term,
        keys=_keys(raw, where),
        flt=flt,
        order_by=order_by,
        event_context=context,
        include_state=_bool(raw, "include_state", where),
        group_by=_group_by(raw, where),
    )


def parse_search_body(body: Mapping[str, Any]) -> RoomEventsCriteria:
    """The criteria of a ``POST /search`` body.

    ``room_events`` is the only category the spec defines; a body naming another is
    refused rather than answered without it (the client would take the silence for
    "no results").
    """
    categories = body.get("search_categories")
    if not isinstance(categories, dict):
        raise bad_json("`search_categories` is required and must be an object")
    unknown = sorted(name for name in categories if name != "room_events")
    if unknown:
        raise invalid(f"unknown search categories {unknown}; known: ['room_events']")
    room_events = categories.get("room_events")
    if not isinstance(room_events, dict):
        raise bad_json("`search_categories.room_events` is required and must be an object")
    return parse_room_events(room_events)


# ---------------------------------------------------------------- next_batch tokens


@dataclass(frozen=True, slots=True)
class BatchToken:
    """Where the next page starts: after the hit (``rank``, ``stream``) of a search
    ordered by ``order_by`` over positions up to ``upto``, within ``group`` if any."""

    order_by: str
    rank: float
    stream: int
    upto: int
    group: tuple[str, str] | None = None

    def encode(self) -> str:
        data: dict[str, Any] = {
            "o": self.order_by,
            "r": self.rank,
            "s": self.stream,
            "u": self.upto,
        }
        if self.group is not None:
            data["g"] = list(self.group)
        raw = json.dumps(data, separators=(",", ":")).encode("utf-8")
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def parse(cls, text: str, order_by: str) -> BatchToken:
        """A token we issued for a search ordered by ``order_by`` (else 400)."""
        error = invalid(f"Invalid next_batch token: {text[:64]!r}")
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            data = json.loads(raw)
        except (binascii.Error, ValueError):
            raise error from None
        if not isinstance(data, dict):
            raise error
        rank, stream, upto = data.get("r"), data.get("s"), data.get("u")
        if (
            data.get("o") not in (RANK, RECENT)
            or not isinstance(rank, int | float)
            or isinstance(rank, bool)
            or not math.isfinite(rank)
            or not isinstance(stream, int)
            or not isinstance(upto, int)
            or isinstance(stream, bool)
            or isinstance(upto, bool)
        ):
            raise error
        if data["o"] != order_by:
            raise invalid("The next_batch token belongs to a search with another order_by")
        group = data.get("g")
        if group is not None:
            if (
                not isinstance(group, list)
                or len(group) != 2
                or group[0] not in GROUP_KEYS
                or not isinstance(group[1], str)
            ):
                raise error
            group = (group[0], group[1])
        return cls(order_by, float(rank), stream, upto, group)
