"""Which events, ephemeral data and to-device messages an application service is sent.

spec: application-service API "Registration" — an application service is interested in
events of rooms matching its ``rooms`` namespaces, of rooms with an alias matching its
``aliases`` namespaces, and in events sent by or about (a membership's ``state_key``)
users matching its ``users`` namespaces (its own sender included), and in every event
of a room where such a user is a member. "Pushing ephemeral data": typing and receipts
under the same rules as room events (private receipts only for its own users), presence
where it applies contextually (its users, or someone sharing a room with them).

Pure: the room's members and aliases are looked up by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from homeserver.protocol.events import Event

from ..registration import Registration


@dataclass(frozen=True, slots=True)
class RoomInfo:
    """What interest depends on beyond the event: the room's current state."""

    members: frozenset[str]  # joined (and invited) members
    aliases: tuple[str, ...]  # canonical alias and alt aliases


def room_aliases(content: object) -> tuple[str, ...]:
    """The aliases an ``m.room.canonical_alias`` content names (junk ignored)."""
    if not isinstance(content, dict):
        return ()
    found: list[str] = []
    alias = content.get("alias")
    if isinstance(alias, str):
        found.append(alias)
    alt = content.get("alt_aliases")
    if isinstance(alt, list):
        found += [a for a in alt if isinstance(a, str)]
    return tuple(found)


def interested_in_room(reg: Registration, room_id: str, room: RoomInfo) -> bool:
    if reg.interested_in_room_id(room_id):
        return True
    if any(reg.interested_in_alias(alias) for alias in room.aliases):
        return True
    return any(reg.interested_in_user(member) for member in room.members)


def interested_in_event(reg: Registration, event: Event, room: RoomInfo) -> bool:
    if reg.interested_in_user(event.sender):
        return True
    member = event.state_key if event.type == "m.room.member" else None
    if member is not None and reg.interested_in_user(member):
        return True
    if event.type == "m.room.canonical_alias" and event.state_key == "":
        # The aliases being set (the room's state may not show them yet).
        aliases = room_aliases(event.content)
        if any(reg.interested_in_alias(alias) for alias in aliases):
            return True
    return interested_in_room(reg, event.room_id, room)


def interested_in_private_receipt(reg: Registration, user_id: str) -> bool:
    return reg.interested_in_user(user_id)


def interested_in_presence(
    reg: Registration, user_id: str, rooms: Iterable[tuple[str, RoomInfo]]
) -> bool:
    """``rooms``: the rooms ``user_id`` is joined to."""
    if reg.interested_in_user(user_id):
        return True
    return any(interested_in_room(reg, room_id, info) for room_id, info in rooms)
