"""The space hierarchy: a depth-first walk of ``m.space.child`` links.

spec: client-server "Spaces", ``GET /_matrix/client/v1/rooms/{roomId}/hierarchy``
(pages of ``limit`` rooms, ``max_depth``, ``suggested_only``, a ``from`` token that
fixes the other two) and server-server "Spaces", ``GET /_matrix/federation/v1/
hierarchy/{roomId}`` (one room and its direct children, not paginated; rooms the
requesting server could not join or peek are ``inaccessible_children``).

Rooms we have are summarised from their state; a child we do not have is asked of the
servers in its ``via`` (the federation variant), whose answers are cached a few
minutes. A loop in the links is walked once: a room already shown is not shown again.
Pagination keeps the rest of the walk in memory under the token (bounded, expiring).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from typing import Any

from homeserver.clock import Clock
from homeserver.errors import MatrixError
from homeserver.logs import fields
from homeserver.lru import LruCache
from homeserver.remote import RemoteCaller, RemoteError, fed_path

from .space_summary import SpaceSummaries, links_in

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_DEPTH = 20
SESSION_TTL_MS = 5 * 60_000
REMOTE_TTL_MS = 5 * 60_000
REMOTE_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class _Entry:
    room_id: str
    via: tuple[str, ...]
    depth: int


@dataclass
class _Walk:
    user_id: str
    root: str
    suggested_only: bool
    max_depth: int
    queue: list[_Entry]
    processed: set[str] = field(default_factory=set)
    # Summaries a parent's remote answer gave for its children (room id -> summary).
    remote: dict[str, JsonDict] = field(default_factory=dict)
    inaccessible: set[str] = field(default_factory=set)
    expires_ms: int = 0


def _invalid(message: str) -> MatrixError:
    return MatrixError(400, "M_INVALID_PARAM", message)


def _only_suggested(summary: JsonDict) -> JsonDict:
    out = dict(summary)
    out["children_state"] = [
        event
        for event in summary.get("children_state", [])
        if isinstance(event.get("content"), dict) and event["content"].get("suggested") is True
    ]
    return out


class SpaceHierarchy:
    def __init__(
        self,
        summaries: SpaceSummaries,
        clock: Clock,
        server_name: str,
        remote: RemoteCaller | None = None,
    ) -> None:
        self.summaries = summaries
        self.clock = clock
        self.server_name = server_name
        self.remote = remote
        self._walks: LruCache[str, _Walk] = LruCache(1000)
        self._remote_answers: LruCache[tuple[str, bool], tuple[int, JsonDict]] = LruCache(1000)
        self._tokens = itertools.count(1)

    # ------------------------------------------------------------------ clients

    async def rooms(
        self,
        user_id: str,
        root: str,
        *,
        suggested_only: bool,
        max_depth: int | None,
        limit: int | None,
        from_token: str | None,
    ) -> JsonDict:
        depth = MAX_DEPTH if max_depth is None else min(max_depth, MAX_DEPTH)
        page_size = DEFAULT_LIMIT if limit is None else min(limit, MAX_LIMIT)
        now = self.clock.time_ms()
        if from_token is not None:
            walk = self._walks.get(from_token)
            if walk is None or walk.expires_ms < now or walk.user_id != user_id:
                raise _invalid("Unknown pagination token")
            if (
                walk.root != root
                or walk.suggested_only != suggested_only
                or (max_depth is not None and walk.max_depth != depth)
            ):
                raise _invalid("`suggested_only` and `max_depth` cannot change while paginating")
            self._walks.pop(from_token)
        else:
            walk = _Walk(user_id, root, suggested_only, depth, [_Entry(root, (), 0)])
        found: list[JsonDict] = []
        while walk.queue and len(found) < page_size:
            entry = walk.queue.pop(0)
            if entry.room_id in walk.processed or entry.room_id in walk.inaccessible:
                continue
            walk.processed.add(entry.room_id)
            summary = await self._visible_room(walk, entry)
            if summary is None:
                if entry.depth == 0:
                    raise MatrixError(403, "M_FORBIDDEN", "You may not view this space")
                continue
            found.append(summary)
            if entry.depth >= walk.max_depth:
                continue
            children = [
                _Entry(link.room_id, link.via, entry.depth + 1)
                for link in links_in(summary.get("children_state"))
                if link.room_id not in walk.processed and (link.suggested or not suggested_only)
            ]
            walk.queue[0:0] = children
        body: JsonDict = {"rooms": found}
        if walk.queue:
            token = f"h{next(self._tokens)}_{now}"
            walk.expires_ms = now + SESSION_TTL_MS
            self._walks.set(token, walk)
            body["next_batch"] = token
        return body

    async def _visible_room(self, walk: _Walk, entry: _Entry) -> JsonDict | None:
        """The room's summary if the user may see it (None otherwise, or unknown)."""
        room_id = entry.room_id
        if await self.summaries.known(room_id):
            summary = await self.summaries.summary(room_id)
        else:
            summary = await self._remote_room(walk, entry)
        if summary is None or not await self.summaries.user_may_see(walk.user_id, room_id, summary):
            return None
        return _only_suggested(summary) if walk.suggested_only else summary

    async def _remote_room(self, walk: _Walk, entry: _Entry) -> JsonDict | None:
        known = walk.remote.get(entry.room_id)
        # A child that is no space needs no children of its own: its parent's answer
        # described it enough.
        if known is not None and known.get("room_type") != "m.space":
            return known
        answer = await self._fetch(entry.room_id, entry.via, walk.suggested_only)
        if answer is None:
            return known
        for child in answer.get("children", []):
            if isinstance(child, dict) and isinstance(child.get("room_id"), str):
                walk.remote.setdefault(child["room_id"], child)
        for room_id in answer.get("inaccessible_children", []):
            if isinstance(room_id, str):
                walk.inaccessible.add(room_id)
        room = answer["room"]
        return room if isinstance(room, dict) else None

    async def _fetch(
        self, room_id: str, via: tuple[str, ...], suggested_only: bool
    ) -> JsonDict | None:
        """The federation hierarchy of a room from the first of ``via`` that answers."""
        if self.remote is None:
            return None
        now = self.clock.time_ms()
        cached = self._remote_answers.get((room_id, suggested_only))
        if cached is not None and cached[0] > now:
            return cached[1]
        path = fed_path("/_matrix/federation/v1/hierarchy/{}", room_id)
        query = {"suggested_only": "true" if suggested_only else "false"}
        for server in dict.fromkeys(via):
            if server == self.server_name:
                continue
            try:
                answer = await self.remote.get_json(server, path, query, timeout=REMOTE_TIMEOUT_S)
            except RemoteError as exc:
                log.info(
                    "remote hierarchy unavailable",
                    extra=fields(room_id=room_id, server=server, error=exc.message),
                )
                continue
            room = answer.get("room") if isinstance(answer, dict) else None
            if not isinstance(room, dict) or room.get("room_id") != room_id:
                continue
            if not isinstance(room.get("children_state"), list):
                room["children_state"] = []
            for key in ("children", "inaccessible_children"):
                if not isinstance(answer.get(key), list):
                    answer[key] = []
            self._remote_answers.set((room_id, suggested_only), (now + REMOTE_TTL_MS, answer))
            return dict(answer)
        return None

    # ------------------------------------------------------------------ servers

    async def for_server(self, origin: str, room_id: str, *, suggested_only: bool) -> JsonDict:
        """spec: ``GET /_matrix/federation/v1/hierarchy/{roomId}`` asked by ``origin``."""
        summary = await self.summaries.summary(room_id)
        if summary is None or not await self.summaries.server_may_see(origin, room_id, summary):
            raise MatrixError(404, "M_NOT_FOUND", "Room does not exist or is not accessible")
        if suggested_only:
            summary = _only_suggested(summary)
        children: list[JsonDict] = []
        inaccessible: list[str] = []
        for link in links_in(summary["children_state"]):
            if suggested_only and not link.suggested:
                continue
            child = await self.summaries.summary(link.room_id)
            if child is None:
                continue  # spec: rooms we cannot describe are left out entirely
            if await self.summaries.server_may_see(origin, link.room_id, child):
                children.append(_only_suggested(child) if suggested_only else child)
            else:
                inaccessible.append(link.room_id)
        return {"room": summary, "children": children, "inaccessible_children": inaccessible}
