"""The permission compiler: guild state -> each channel's power levels and read plan.

Enforcement must be ordinary Matrix so that every server in a room (Synapse included)
enforces it (DESIGN.md "Concord layer"). Matrix has one thing to work with: a power level
per user, compared with a level per event type / action. Concord permissions are
independent sets (a role may grant ``delete_messages`` without ``kick``), so the mapping
is lossy, and it must lose in the safe direction: FAIL CLOSED.

The ladder. Each capability gets a fixed level, strictly increasing:

    channel: write 10 < edit_description 20 < delete_messages (redact) 30 < kick 40
             < ban 50 < manage_channels 60 < administrator 100
    space:   kick 40 < ban 50 < manage_channels 60 < manage_roles 70 < manage_guild 80
             < administrator 100

A user's level is the highest ladder level L such that they hold EVERY capability whose
level is <= L (0 if they miss the first rung). So nobody reaches the level of a capability
they lack; the price is that a rung missing low on the ladder caps what higher ones can
give (a role with ``ban`` but not ``kick`` only gets what is below kick). The order puts
what moderators usually hold together low, and what only trusted roles hold high.
A channel action whose ``im.concord.channel_permissions`` key is absent is everyone's: it
leaves the ladder and its event level becomes 0 (when everyone may write,
``events_default`` is 0).

Levels owned by the compiler (rewritten on every compile); every other key of the current
content (custom event levels, ``notifications``) is kept, so compiling is idempotent and
does not fight other tools over what it does not own:

- ``users`` (only non-zero levels; creators never appear: in room v12 they have unlimited
  power and auth rule 10.4 forbids listing them; ``service_users`` get the level given),
  ``users_default`` 0;
- channel: ``events_default`` and message-like events (write), ``m.room.topic``
  (edit_description), ``redact`` (delete_messages), ``kick``, ``ban``; ``m.room.name``,
  ``m.room.avatar`` and ``im.concord.channel_permissions`` (manage_channels);
  ``m.room.redaction`` 0 because a sender may always redact their own messages (the
  ``redact`` level gates other people's); ``invite``, ``state_default`` and the room's
  security state (power levels, join rules, ACLs, ...) at the Admin level: reads are
  granted by the steward's invites, not by whoever can invite; voice channels put
  ``org.matrix.msc3401.call.member`` at 0 so every member can publish voice presence;
- space: ``m.space.child`` and ``im.concord.category`` (manage_channels), ``im.concord.role``
  and ``im.concord.member_roles`` (manage_roles), name/topic/avatar/banner (manage_guild),
  ``kick``, ``ban``; nothing is posted in a space, so ``events_default`` and ``redact``
  sit at the Admin level; ``invite`` 0 lets members invite friends to the guild (joining
  a guild grants no channel read by itself).

Read: the readers of a channel are the guild's joined members allowed ``read`` (everyone
when the key is absent, Admins always). Join rule ``restricted`` to the space when everyone
may read (spec: client-server "Restricted rooms"), ``invite`` otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import event_types as et
from .guild import Guild, permissions_of, roles_of

LEVEL_WRITE = 10
LEVEL_EDIT_DESCRIPTION = 20
LEVEL_DELETE_MESSAGES = 30
LEVEL_KICK = 40
LEVEL_BAN = 50
LEVEL_MANAGE_CHANNELS = 60
LEVEL_MANAGE_ROLES = 70
LEVEL_MANAGE_GUILD = 80
LEVEL_ADMIN = 100

# Capabilities only a channel knows (from im.concord.channel_permissions), prefixed so they
# cannot collide with guild permission names.
_CAN_WRITE = "channel:" + et.WRITE
_CAN_EDIT_DESCRIPTION = "channel:" + et.EDIT_DESCRIPTION

_CHANNEL_LADDER: tuple[tuple[int, str], ...] = (
    (LEVEL_WRITE, _CAN_WRITE),
    (LEVEL_EDIT_DESCRIPTION, _CAN_EDIT_DESCRIPTION),
    (LEVEL_DELETE_MESSAGES, et.DELETE_MESSAGES),
    (LEVEL_KICK, et.KICK),
    (LEVEL_BAN, et.BAN),
    (LEVEL_MANAGE_CHANNELS, et.MANAGE_CHANNELS),
    (LEVEL_ADMIN, et.ADMINISTRATOR),
)
_SPACE_LADDER: tuple[tuple[int, str], ...] = (
    (LEVEL_KICK, et.KICK),
    (LEVEL_BAN, et.BAN),
    (LEVEL_MANAGE_CHANNELS, et.MANAGE_CHANNELS),
    (LEVEL_MANAGE_ROLES, et.MANAGE_ROLES),
    (LEVEL_MANAGE_GUILD, et.MANAGE_GUILD),
    (LEVEL_ADMIN, et.ADMINISTRATOR),
)

# Message-like events a writer sends (others fall to events_default, which is the same).
_MESSAGE_TYPES = ("m.room.message", "m.reaction", "m.sticker", "m.room.encrypted")
# Room security state only Admins (and the steward) touch.
_ADMIN_STATE_TYPES = (
    et.POWER_LEVELS,
    "m.room.join_rules",
    "m.room.history_visibility",
    "m.room.server_acl",
    "m.room.tombstone",
    "m.room.encryption",
    "m.room.canonical_alias",
    et.SPACE_PARENT,
)
RESTRICTED_ALLOW_TYPE = "m.room_membership"


@dataclass(frozen=True)
class ChannelPlan:
    """What a channel should look like: its power levels content, who may read it (the
    users the steward invites, and whose absence from the list gets them kicked), its join
    rule and the ``allow`` list of a restricted join rule."""

    power_levels: dict[str, Any]
    readers: frozenset[str]
    join_rule: str
    allow: tuple[dict[str, str], ...]


def _ladder_level(held: frozenset[str], ladder: Sequence[tuple[int, str]]) -> int:
    """Highest rung L such that every capability at or below L is held; 0 if none."""
    level = 0
    for rung, capability in sorted(ladder):
        if capability not in held:
            break
        level = rung
    return level


def _allowed(guild: Guild, user_id: str, permissions: Mapping[str, Any], action: str) -> bool:
    """Whether ``user_id`` may do channel ``action``; malformed values allow nobody."""
    if et.ADMINISTRATOR in permissions_of(guild, user_id):
        return True
    if action not in permissions:
        return user_id in guild.members
    allowed = permissions[action]
    if not isinstance(allowed, list):
        return False
    return user_id in guild.members and not roles_of(guild, user_id).isdisjoint(
        r for r in allowed if isinstance(r, str)
    )


def _base(current: Mapping[str, Any]) -> dict[str, Any]:
    out = {key: value for key, value in current.items() if key != "events"}
    events = current.get("events")
    out["events"] = dict(events) if isinstance(events, Mapping) else {}
    return out


def _users(guild: Guild, levels: Mapping[str, int], excluded: frozenset[str]) -> dict[str, int]:
    return {user: level for user, level in sorted(levels.items()) if level and user not in excluded}


def compile_channel(
    guild: Guild,
    permissions: Mapping[str, Any],
    current_power_levels: Mapping[str, Any],
    *,
    steward: str,
    is_voice: bool,
    service_users: Mapping[str, int] = {},  # read only, never mutated
    creators: Iterable[str] = (),
) -> ChannelPlan:
    """The plan of one channel.

    ``permissions``: the channel's ``im.concord.channel_permissions`` content (``{}`` when
    absent). ``creators``: the channel room's creators besides ``steward`` (never listed in
    ``users``).
    """
    action_levels = {
        et.WRITE: (LEVEL_WRITE, _CAN_WRITE),
        et.EDIT_DESCRIPTION: (LEVEL_EDIT_DESCRIPTION, _CAN_EDIT_DESCRIPTION),
    }
    universal = {cap for action, (_, cap) in action_levels.items() if action not in permissions}
    ladder = [(rung, cap) for rung, cap in _CHANNEL_LADDER if cap not in universal]

    levels: dict[str, int] = {}
    for user in guild.members:
        held = set(permissions_of(guild, user))
        for action, (_, cap) in action_levels.items():
            if _allowed(guild, user, permissions, action):
                held.add(cap)
        levels[user] = _ladder_level(frozenset(held), ladder)
    excluded = frozenset(creators) | {steward}
    users = _users(guild, levels, excluded)
    for user, level in service_users.items():
        if user not in excluded:
            users[user] = level

    write = 0 if _CAN_WRITE in universal else LEVEL_WRITE
    topic = 0 if _CAN_EDIT_DESCRIPTION in universal else LEVEL_EDIT_DESCRIPTION
    pl = _base(current_power_levels)
    events: dict[str, Any] = pl["events"]
    for event_type in _MESSAGE_TYPES:
        events[event_type] = write
    events[et.REDACTION] = 0
    events["m.room.topic"] = topic
    for event_type in ("m.room.name", "m.room.avatar", et.CHANNEL_PERMISSIONS):
        events[event_type] = LEVEL_MANAGE_CHANNELS
    for event_type in _ADMIN_STATE_TYPES:
        events[event_type] = LEVEL_ADMIN
    if is_voice:
        events[et.CALL_MEMBER] = 0
    else:
        events.pop(et.CALL_MEMBER, None)
    pl.update(
        users=users,
        users_default=0,
        events_default=write,
        state_default=LEVEL_ADMIN,
        redact=LEVEL_DELETE_MESSAGES,
        kick=LEVEL_KICK,
        ban=LEVEL_BAN,
        invite=LEVEL_ADMIN,
    )

    readers = frozenset(u for u in guild.members if _allowed(guild, u, permissions, et.READ))
    if et.READ in permissions:
        return ChannelPlan(pl, readers, "invite", ())
    allow = ({"type": RESTRICTED_ALLOW_TYPE, "room_id": guild.room_id},)
    return ChannelPlan(pl, readers, "restricted", allow)


def compile_guild_power_levels(
    guild: Guild, current_power_levels: Mapping[str, Any], *, steward: str
) -> dict[str, Any]:
    """The guild space's power levels content (see the module docstring)."""
    levels = {
        user: _ladder_level(permissions_of(guild, user), _SPACE_LADDER) for user in guild.members
    }
    users = _users(guild, levels, guild.creators | {steward})
    pl = _base(current_power_levels)
    events: dict[str, Any] = pl["events"]
    for event_type in (et.SPACE_CHILD, et.CATEGORY):
        events[event_type] = LEVEL_MANAGE_CHANNELS
    for event_type in (et.ROLE, et.MEMBER_ROLES):
        events[event_type] = LEVEL_MANAGE_ROLES
    for event_type in ("m.room.name", "m.room.topic", "m.room.avatar", et.BANNER):
        events[event_type] = LEVEL_MANAGE_GUILD
    for event_type in _ADMIN_STATE_TYPES:
        events[event_type] = LEVEL_ADMIN
    pl.update(
        users=users,
        users_default=0,
        events_default=LEVEL_ADMIN,
        state_default=LEVEL_ADMIN,
        redact=LEVEL_ADMIN,
        kick=LEVEL_KICK,
        ban=LEVEL_BAN,
        invite=0,
    )
    return pl
