"""Concord checks on what OUR clients send (issue 9), before an event is built.

Matrix auth already enforces power levels on every server; these add what power levels
cannot say, for local clients only (remote events are judged by Matrix auth alone, and
homeserver/chat reads them leniently):

- malformed content of a Concord state type, of ``m.space.child`` or of
  ``im.concord.role_mentions`` in a message -> 400 ``M_BAD_JSON``, nothing persisted;
- role ranks (homeserver/chat/guild.py "Who may manage whom"): an ``im.concord.role``
  write or an ``im.concord.member_roles`` change by a user who does not outrank every
  role affected -> 403 ``M_FORBIDDEN``.

Only the state the decision needs is read (the create event, the roles, and the actor's
and target's membership and roles), through the room state cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeserver.chat import event_types as et
from homeserver.chat.guild import Guild, may_assign_roles, may_set_role
from homeserver.chat.schemas import ChatSchemaError, validate_message, validate_state
from homeserver.errors import MatrixError

from .guild_state import read_guild
from .room_state import RoomStateCache


def check_content(event_type: str, state_key: str | None, content: Mapping[str, Any]) -> None:
    """Schema checks: ``state_key`` None for a message-like event."""
    try:
        if state_key is None:
            if event_type == et.MESSAGE:
                validate_message(content)
        else:
            validate_state(event_type, state_key, content)
    except ChatSchemaError as exc:
        raise MatrixError(400, "M_BAD_JSON", str(exc)) from None


async def _guild(rooms: RoomStateCache, room_id: str, users: set[str]) -> Guild:
    info = await rooms.room(room_id)
    if info is None:
        raise MatrixError(404, "M_NOT_FOUND", "Unknown room")
    keys = [key for key in info.state if key[0] == et.ROLE]
    keys.append((et.CREATE, ""))
    for user in users:
        keys += [(et.MEMBER, user), (et.MEMBER_ROLES, et.member_roles_key(user))]
    return await read_guild(rooms, room_id, keys)


async def check_state(
    rooms: RoomStateCache,
    user_id: str,
    room_id: str,
    event_type: str,
    state_key: str,
    content: Mapping[str, Any],
) -> None:
    """All checks for a client's state event; raises ``MatrixError`` to refuse it."""
    check_content(event_type, state_key, content)
    if event_type == et.ROLE:
        guild = await _guild(rooms, room_id, {user_id})
        position = content.get("position") if content else None
        if not may_set_role(guild, user_id, state_key, position):
            raise MatrixError(
                403,
                "M_FORBIDDEN",
                "You may only edit roles ranked below your highest role, with manage_roles",
            )
    elif event_type == et.MEMBER_ROLES:
        target = et.member_roles_user(state_key)
        guild = await _guild(rooms, room_id, {user_id, target})
        roles = frozenset(content.get("roles", ()))
        if not may_assign_roles(guild, user_id, target, roles):
            raise MatrixError(
                403,
                "M_FORBIDDEN",
                "You may only give or take roles ranked below your highest role, to members"
                " ranked below you, with manage_roles",
            )
