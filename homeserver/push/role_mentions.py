"""``@role`` mentions: who a message's ``im.concord.role_mentions`` names.

A channel's guild is the space its ``m.space.parent`` state names, provided that space
lists the channel back with an ``m.space.child`` (a link both ways: a room cannot claim
a guild to reach its members). The guild's roles and member roles are read from the
space's current state in the ``RoomStateCache``; the pure
``homeserver.chat.mentions.role_mention_targets`` decides who is named — the members
of each mentioned role, when the role is ``mentionable`` or the sender has
``mention_roles`` (DESIGN.md "Concord layer").

The push evaluator treats those users as if they were in ``m.mentions.user_ids``
(spec: client-server "Push Rules", ``.m.rule.is_user_mention``), so a role mention
highlights exactly like a user mention, and only for users who receive the message
(members of the channel).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeserver.chat.event_types import CREATE, MEMBER, MEMBER_ROLES, ROLE, ROLE_MENTIONS
from homeserver.chat.mentions import role_mention_targets
from homeserver.protocol.events import Event
from homeserver.rooms.guild_state import read_guild
from homeserver.rooms.room_state import RoomStateCache

PARENT = "m.space.parent"
CHILD = "m.space.child"
# What role_mention_targets reads of the space: roles, who holds them, who is joined.
_GUILD_TYPES = frozenset({ROLE, MEMBER_ROLES, MEMBER, CREATE})


def names_roles(content: Mapping[str, Any]) -> bool:
    found = content.get(ROLE_MENTIONS)
    return isinstance(found, list) and bool(found)


def with_user_mentions(event: Mapping[str, Any], users: frozenset[str]) -> dict[str, Any]:
    """The event with ``users`` added to ``content.m.mentions.user_ids``."""
    content = event.get("content")
    content = dict(content) if isinstance(content, Mapping) else {}
    mentions = content.get("m.mentions")
    mentions = dict(mentions) if isinstance(mentions, Mapping) else {}
    listed = mentions.get("user_ids")
    ids = [u for u in listed if isinstance(u, str)] if isinstance(listed, list) else []
    mentions["user_ids"] = ids + sorted(users - set(ids))
    content["m.mentions"] = mentions
    return {**event, "content": content}


async def role_mention_users(rooms: RoomStateCache, event: Event) -> frozenset[str]:
    """The users the event names through role mentions (empty when it names none, or
    its room is in no guild)."""
    if event.state_key is not None or not names_roles(event.content):
        return frozenset()
    channel = await rooms.room(event.room_id)
    if channel is None:
        return frozenset()
    parent_keys = sorted(key for key in channel.state if key[0] == PARENT)
    links = await rooms.state_events(event.room_id, parent_keys)
    for (_, space_id), parent in sorted(links.items()):
        if not isinstance(parent.content.get("via"), list):
            continue  # spec: "Spaces" — a link without ``via`` is removed
        space = await rooms.room(space_id)
        if space is None:
            continue  # a space we are not in: nothing to expand
        child = (await rooms.state_events(space_id, [(CHILD, event.room_id)])).get(
            (CHILD, event.room_id)
        )
        if child is None or not isinstance(child.content.get("via"), list):
            continue
        keys = [key for key in space.state if key[0] in _GUILD_TYPES]
        guild = await read_guild(rooms, space_id, keys)
        return role_mention_targets(guild, event.sender, event.content)
    return frozenset()
