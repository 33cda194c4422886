"""Concord event types, fields and permission names (DESIGN.md "Concord layer").

Everything Matrix lacks lives in the ``im.concord.*`` namespace so that other clients see
ordinary rooms and spaces and simply ignore what they do not know.
"""

from __future__ import annotations

from typing import Final

# -- state events of the guild space ---------------------------------------------------
ROLE: Final = "im.concord.role"  # state_key: role id
MEMBER_ROLES: Final = "im.concord.member_roles"  # state_key: user id WITHOUT its "@"

CATEGORY: Final = "im.concord.category"  # state_key: category id
BANNER: Final = "im.concord.banner"  # state_key: ""

# -- state events of a channel ----------------------------------------------------------
CHANNEL_PERMISSIONS: Final = "im.concord.channel_permissions"  # state_key: ""

# -- Matrix types the layer reads or gives meaning to -----------------------------------
SPACE_CHILD: Final = "m.space.child"
SPACE_PARENT: Final = "m.space.parent"
CREATE: Final = "m.room.create"
MEMBER: Final = "m.room.member"
POWER_LEVELS: Final = "m.room.power_levels"
MESSAGE: Final = "m.room.message"
REDACTION: Final = "m.room.redaction"
# MatrixRTC membership (MSC3401): voice presence, published by members in voice channels.
CALL_MEMBER: Final = "org.matrix.msc3401.call.member"

# -- fields ---------------------------------------------------------------------------
# m.space.child content: the category a channel sits in (a category id of the space).
CHILD_CATEGORY_FIELD: Final = "im.concord.category"
# m.room.message content: role ids mentioned (``@Mods``); see mentions.py.
ROLE_MENTIONS: Final = "im.concord.role_mentions"
# Profile field: a user's free-text description.
DESCRIPTION_FIELD: Final = "im.concord.description"
# Account data: per-user UI state (collapsed categories), synced across devices.
UI: Final = "im.concord.ui"
# Create event content of a voice channel: ``type``.
VOICE_ROOM_TYPE: Final = "im.concord.voice"
# Create event content of a guild space: the user on whose behalf the steward created it.
# The owner outranks every role (guild.py "Who may manage whom").
OWNER_FIELD: Final = "im.concord.owner"

# -- the built-in Admin role -------------------------------------------------------------
ADMIN_ROLE_ID: Final = "admin"
ADMIN_ROLE_NAME: Final = "Admin"
# Role positions run from 0 to ROLE_POSITION_MAX (larger = more senior); the Admin role is
# created at the top, so only the owner (and the steward) can edit it or hand it out.
ROLE_POSITION_MAX: Final = 1000
ADMIN_ROLE_POSITION: Final = ROLE_POSITION_MAX

# -- permissions ------------------------------------------------------------------------
ADMINISTRATOR: Final = "administrator"
MANAGE_GUILD: Final = "manage_guild"
MANAGE_CHANNELS: Final = "manage_channels"
MANAGE_ROLES: Final = "manage_roles"
KICK: Final = "kick"
BAN: Final = "ban"
DELETE_MESSAGES: Final = "delete_messages"
MENTION_ROLES: Final = "mention_roles"

# Guild-wide permissions a role may grant (role content ``permissions``: a list of these).
PERMISSIONS: Final = frozenset(
    {
        ADMINISTRATOR,
        MANAGE_GUILD,
        MANAGE_CHANNELS,
        MANAGE_ROLES,
        KICK,
        BAN,
        DELETE_MESSAGES,
        MENTION_ROLES,
    }
)

# Per-channel actions of ``im.concord.channel_permissions`` (value: role ids allowed).
READ: Final = "read"
WRITE: Final = "write"
EDIT_DESCRIPTION: Final = "edit_description"
CHANNEL_ACTIONS: Final = frozenset({READ, WRITE, EDIT_DESCRIPTION})

# State types of the guild space whose content Concord defines (validated by schemas.py).
GUILD_STATE_TYPES: Final = frozenset({ROLE, MEMBER_ROLES, CATEGORY, BANNER})
CONCORD_STATE_TYPES: Final = GUILD_STATE_TYPES | {CHANNEL_PERMISSIONS}


def member_roles_key(user_id: str) -> str:
    """The member_roles state_key of ``user_id``: the id without its leading ``@``.

    Every room version's auth rules reject a state_key that starts with ``@`` unless it
    is the sender's own id (spec: room versions, auth rules "state_key that starts with
    an @"), so an Admin could never set another member's roles under the plain id.
    """
    return user_id[1:] if user_id.startswith("@") else user_id


def member_roles_user(state_key: str) -> str:
    """The user id a member_roles state_key names (inverse of ``member_roles_key``)."""
    return "@" + state_key
