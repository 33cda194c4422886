"""``RoomEventFilter``: which room events a client asked for.

spec: client-server "Filtering" and the ``RoomEventFilter`` schema — ``types`` /
``not_types`` (``*`` is a wildcard), ``senders`` / ``not_senders``, ``rooms`` /
``not_rooms``, ``contains_url``, ``limit``, ``lazy_load_members`` and
``include_redundant_members``. A ``not_*`` list wins over its positive list.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from homeserver.errors import MatrixError
from homeserver.protocol.events import Event


def _bad(message: str) -> MatrixError:
    return MatrixError(400, "M_BAD_JSON", message)


@lru_cache(maxsize=1024)
def _pattern(glob: str) -> re.Pattern[str]:
    # Only `*` is special in filters; escape everything else fnmatch would read.
    return re.compile(fnmatch.translate(glob.replace("[", "[[]").replace("?", "[?]")))


def _matches_any(value: str, patterns: tuple[str, ...]) -> bool:
    return any(p == value or ("*" in p and _pattern(p).match(value)) for p in patterns)


def _str_list(body: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(f"filter `{key}` must be a list of strings")
    return tuple(value)


def _opt_bool(body: Mapping[str, Any], key: str) -> bool | None:
    value = body.get(key)
    if value is not None and not isinstance(value, bool):
        raise _bad(f"filter `{key}` must be a boolean")
    return value


@dataclass(frozen=True, slots=True)
class RoomEventFilter:
    types: tuple[str, ...] | None = None
    not_types: tuple[str, ...] = ()
    senders: tuple[str, ...] | None = None
    not_senders: tuple[str, ...] = ()
    rooms: tuple[str, ...] | None = None
    not_rooms: tuple[str, ...] = ()
    contains_url: bool | None = None
    limit: int | None = None
    lazy_load_members: bool = False
    include_redundant_members: bool = False

    @classmethod
    def from_json(cls, body: object) -> RoomEventFilter:
        if not isinstance(body, dict):
            raise _bad("filter must be a JSON object")
        limit = body.get("limit")
        if limit is not None and (
            not isinstance(limit, int) or isinstance(limit, bool) or limit < 1
        ):
            raise _bad("filter `limit` must be a positive integer")
        return cls(
            types=_str_list(body, "types"),
            not_types=_str_list(body, "not_types") or (),
            senders=_str_list(body, "senders"),
            not_senders=_str_list(body, "not_senders") or (),
            rooms=_str_list(body, "rooms"),
            not_rooms=_str_list(body, "not_rooms") or (),
            contains_url=_opt_bool(body, "contains_url"),
            limit=limit,
            lazy_load_members=bool(_opt_bool(body, "lazy_load_members")),
            include_redundant_members=bool(_opt_bool(body, "include_redundant_members")),
        )

    @classmethod
    def from_query(cls, text: str | None) -> RoomEventFilter:
        """The ``filter`` query parameter: a JSON ``RoomEventFilter`` (absent: none)."""
        if text is None or text == "":
            return cls()
        try:
            body = json.loads(text)
        except ValueError:
            raise MatrixError(400, "M_NOT_JSON", "`filter` is not valid JSON") from None
        return cls.from_json(body)

    @property
    def is_empty(self) -> bool:
        return self == RoomEventFilter(
            lazy_load_members=self.lazy_load_members,
            include_redundant_members=self.include_redundant_members,
            limit=self.limit,
        )

    def matches(self, event: Event) -> bool:
        # Wildcards apply to event types only; ids match exactly.
        if event.room_id in self.not_rooms:
            return False
        if self.rooms is not None and event.room_id not in self.rooms:
            return False
        if event.sender in self.not_senders:
            return False
        if self.senders is not None and event.sender not in self.senders:
            return False
        if _matches_any(event.type, self.not_types):
            return False
        if self.types is not None and not _matches_any(event.type, self.types):
            return False
        if self.contains_url is not None:
            has_url = isinstance(event.content.get("url"), str)
            if has_url != self.contains_url:
                return False
        return True
