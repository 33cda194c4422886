"""A guild's model read from its space's current state, as little of it as asked for.

The Concord checks on our clients' sends (rooms/chat_checks.py) and the ``@role``
expansion of the push evaluator (push/role_mentions.py) each need a different slice of
the space's state; both turn it into ``homeserver.chat.guild.Guild`` the same way: the
contents of the given state keys, and the room's creators (room v12: unlimited power,
named by the create event, not by its power levels).
"""

from __future__ import annotations

from collections.abc import Iterable

from homeserver.chat.guild import Guild, guild_from_state

from .room_state import RoomStateCache, StateKey


async def read_guild(rooms: RoomStateCache, space_id: str, keys: Iterable[StateKey]) -> Guild:
    """The guild of ``space_id`` built from the state at ``keys`` (absent keys skipped)."""
    events = await rooms.state_events(space_id, list(keys))
    state = {key: event.content for key, event in events.items()}
    creators = (await rooms.power(space_id)).creators
    return guild_from_state(space_id, state, creators=creators)
