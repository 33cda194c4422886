"""A room as the space hierarchy shows it, its ``m.space.child`` links, and who may see it.

spec: client-server "Spaces" (``m.space.child``: a link counts when its ``via`` is a
non-empty list; "Ordering of children within a space") and ``GET /hierarchy``: a room
is shown to a user who is joined or invited, may join it (public; restricted with a
membership of an allowed room), may knock, or when it is world readable. The
federation variant asks the same of the requesting *server* (server-server "Spaces").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import KNOWN_ROOM_VERSIONS
from homeserver.storage.space_reads import SpaceReads

from .access import RoomAccess
from .directory import DirectoryHandler
from .room_state import RoomStateCache

JsonDict = dict[str, Any]

SPACE_CHILD = "m.space.child"
MAX_ORDER_LENGTH = 50


@dataclass(frozen=True, slots=True)
class ChildLink:
    room_id: str
    via: tuple[str, ...]
    order: str | None
    suggested: bool
    origin_server_ts: int


def valid_order(value: object) -> str | None:
    """spec: ``order`` — printable ASCII (``\\x20``-``\\x7E``), at most 50 characters;
    anything else counts as absent."""
    if (
        isinstance(value, str)
        and 0 < len(value) <= MAX_ORDER_LENGTH
        and all(" " <= ch <= "~" for ch in value)
    ):
        return value
    return None


def link_of(state_key: object, content: Mapping[str, Any], ts: object) -> ChildLink | None:
    via = content.get("via")
    if (
        not isinstance(state_key, str)
        or not state_key.startswith("!")
        or not isinstance(via, list)
        or not via
        or not all(isinstance(server, str) for server in via)
    ):
        return None
    return ChildLink(
        room_id=state_key,
        via=tuple(via),
        order=valid_order(content.get("order")),
        suggested=content.get("suggested") is True,
        origin_server_ts=ts if isinstance(ts, int) and not isinstance(ts, bool) else 0,
    )


def ordered(links: Iterable[ChildLink]) -> list[ChildLink]:
    """spec: "Ordering of children within a space": those with an ``order`` first, by
    it; then by the link's timestamp; ties by room id."""
    return sorted(
        links,
        key=lambda link: (
            link.order is None,
            link.order or "",
            link.origin_server_ts,
            link.room_id,
        ),
    )


def links_in(children_state: object) -> list[ChildLink]:
    """The valid links of a summary's ``children_state``, ordered."""
    found: list[ChildLink] = []
    if isinstance(children_state, list):
        for item in children_state:
            if isinstance(item, dict) and item.get("type") == SPACE_CHILD:
                content = item.get("content")
                link = link_of(
                    item.get("state_key"),
                    content if isinstance(content, dict) else {},
                    item.get("origin_server_ts"),
                )
                if link is not None:
                    found.append(link)
    return ordered(found)


def stripped_child(event: Event) -> JsonDict:
    """spec: a stripped state event with ``origin_server_ts`` added."""
    return {
        "type": event.type,
        "state_key": event.state_key,
        "content": event.content,
        "sender": event.sender,
        "origin_server_ts": event.origin_server_ts,
    }


def allowed_rooms(join_rules: Mapping[str, Any]) -> list[str]:
    allow = join_rules.get("allow")
    found: list[str] = []
    if isinstance(allow, list):
        for entry in allow:
            if (
                isinstance(entry, dict)
                and entry.get("type") == "m.room_membership"
                and isinstance(entry.get("room_id"), str)
            ):
                found.append(entry["room_id"])
    return found


def open_to_all(summary: Mapping[str, Any]) -> bool:
    """Whoever asks may see the room: public, knockable or world readable."""
    if summary.get("world_readable") is True:
        return True
    rule = summary.get("join_rule")
    if rule == "public":
        return True
    if rule in ("knock", "knock_restricted"):
        version = KNOWN_ROOM_VERSIONS.get(str(summary.get("room_version")))
        if version is None:
            return True  # a version we do not know: trust the room's own rule
        return version.knock_join_rule if rule == "knock" else version.knock_restricted_join_rule
    return False


class SpaceSummaries:
    def __init__(
        self,
        rooms: RoomStateCache,
        directory: DirectoryHandler,
        access: RoomAccess,
        reads: SpaceReads,
    ) -> None:
        self.rooms = rooms
        self.directory = directory
        self.access = access
        self.reads = reads

    async def known(self, room_id: str) -> bool:
        return await self.rooms.room(room_id) is not None

    async def child_events(self, room_id: str) -> list[Event]:
        info = await self.rooms.room(room_id)
        if info is None:
            return []
        keys = [key for key in info.state if key[0] == SPACE_CHILD]
        found = await self.rooms.state_events(room_id, keys)
        return [found[key] for key in sorted(found)]

    async def summary(self, room_id: str) -> JsonDict | None:
        """The room's ``SpaceHierarchyRoomsChunk`` (None: a room we do not have)."""
        chunk = await self.directory.summary(room_id)
        info = await self.rooms.room(room_id)
        if chunk is None or info is None:
            return None
        found = await self.rooms.state_events(
            room_id, [("m.room.join_rules", ""), ("m.room.encryption", "")]
        )
        join_rules = found.get(("m.room.join_rules", ""))
        if join_rules is not None and chunk.get("join_rule") in ("restricted", "knock_restricted"):
            chunk["allowed_room_ids"] = allowed_rooms(join_rules.content)
        encryption = found.get(("m.room.encryption", ""))
        algorithm = encryption.content.get("algorithm") if encryption is not None else None
        if isinstance(algorithm, str):
            chunk["encryption"] = algorithm
        chunk["room_version"] = info.version.identifier
        chunk["children_state"] = [
            stripped_child(event)
            for event in await self.child_events(room_id)
            if link_of(event.state_key, event.content, event.origin_server_ts) is not None
        ]
        return chunk

    async def user_may_see(self, user_id: str, room_id: str, summary: Mapping[str, Any]) -> bool:
        if open_to_all(summary):
            return True
        if await self.known(room_id) and await self.access.current_membership(room_id, user_id) in (
            "join",
            "invite",
        ):
            return True
        if summary.get("join_rule") in ("restricted", "knock_restricted"):
            for allowed in summary.get("allowed_room_ids") or []:
                if (
                    isinstance(allowed, str)
                    and await self.known(allowed)
                    and await self.access.current_membership(allowed, user_id) == "join"
                ):
                    return True
        return False

    async def server_may_see(self, server: str, room_id: str, summary: Mapping[str, Any]) -> bool:
        if open_to_all(summary):
            return True
        candidates = [room_id]
        if summary.get("join_rule") in ("restricted", "knock_restricted"):
            candidates += [r for r in summary.get("allowed_room_ids") or [] if isinstance(r, str)]
        return bool(await self.reads.rooms_with_server_member(server, candidates))
