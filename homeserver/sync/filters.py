"""Uploading, downloading and resolving sync filters.

spec: client-server "Filtering", ``POST /user/{userId}/filter``,
``GET /user/{userId}/filter/{filterId}``, and ``GET /sync``'s ``filter`` parameter
("an ID or a JSON object ... whether the first character is a `{`").
"""

from __future__ import annotations

import json
from typing import Any

from homeserver.errors import MatrixError
from homeserver.lru import LruCache
from homeserver.storage.store import Store

from .filtering import SyncFilter, parse_filter

JsonDict = dict[str, Any]

DEFAULT_FILTER = SyncFilter()
MAX_INLINE_FILTER = 64 * 1024


def _check_self(requester_id: str, user_id: str) -> None:
    if requester_id != user_id:
        raise MatrixError(403, "M_FORBIDDEN", "Cannot use filters of other users.")


def _filter_id(text: str) -> int | None:
    if not text.isdigit() or len(text) > 18:
        return None
    return int(text)


class FilterHandler:
    def __init__(self, store: Store, cache_size: int = 10_000) -> None:
        self.store = store
        # Filters are immutable once uploaded; long-polls resend the same one.
        self._parsed: LruCache[tuple[str, str], SyncFilter] = LruCache(cache_size)

    async def upload(self, requester_id: str, user_id: str, body: JsonDict) -> str:
        _check_self(requester_id, user_id)
        parse_filter(body)  # refuse what we could not apply later
        return str(await self.store.filters.add(user_id, body))

    async def get(self, requester_id: str, user_id: str, filter_id: str) -> JsonDict:
        _check_self(requester_id, user_id)
        number = _filter_id(filter_id)
        definition = None if number is None else await self.store.filters.get(user_id, number)
        if definition is None:
            raise MatrixError(404, "M_NOT_FOUND", "No such filter")
        return definition

    async def resolve(self, user_id: str, param: str | None) -> SyncFilter:
        """The filter a ``/sync`` asks for: none, an uploaded id, or inline JSON."""
        if param is None or param == "":
            return DEFAULT_FILTER
        key = (user_id, param)
        cached = self._parsed.get(key)
        if cached is not None:
            return cached
        if param.lstrip().startswith("{"):
            if len(param) > MAX_INLINE_FILTER:
                raise MatrixError(400, "M_INVALID_PARAM", "The inline filter is too large")
            try:
                raw = json.loads(param)
            except ValueError:
                raise MatrixError(400, "M_BAD_JSON", "The filter is not valid JSON") from None
            parsed = parse_filter(raw)
        else:
            number = _filter_id(param)
            definition = None if number is None else await self.store.filters.get(user_id, number)
            if definition is None:
                raise MatrixError(400, "M_INVALID_PARAM", f"No filter with id {param!r}")
            parsed = parse_filter(definition)
        self._parsed.set(key, parsed)
        return parsed
