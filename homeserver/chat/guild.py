"""The guild model: a space's current state read into roles, members and channels.

A guild is a Matrix space (DESIGN.md "Concord layer"). ``guild_from_state`` reads it
leniently: state that arrived over federation was judged by Matrix auth only, so content
that fails schemas.py is ignored as if absent. Ignoring is the fail-closed choice: a
malformed role grants nothing, a malformed member_roles gives its user no role.

Who may manage whom (role ``position``, larger = more senior):

- A user's highest position is the max position over the existing roles they hold (-1 with
  none). The guild's *creators* (the room creators of the v12 space: the steward and any
  ``additional_creators``) and its *owner* (``im.concord.owner`` of the create event, the
  user on whose behalf the steward created the guild) rank above every role
  (``OUTRANKS_ALL``) and hold every permission.
- Nobody edits, deletes or assigns a role whose position is >= their own highest position,
  and a role may not be created or moved to such a position. Editing roles requires
  ``manage_roles`` (``administrator`` implies it).
- Changing another member's roles also requires that member to rank strictly below the
  actor; one's own roles may be changed within the roles one manages.
- The Admin role sits at ROLE_POSITION_MAX, so Admins manage every other role but not the
  Admin role itself: only the owner (or steward) makes or unmakes Admins.

Only joined members of the space hold permissions: a user who left keeps their
member_roles event but none of its power.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import event_types as et
from .schemas import ChatSchemaError, validate_state

# Above any role position: the rank of the owner and the creators.
OUTRANKS_ALL = et.ROLE_POSITION_MAX + 1
# The rank of a member without roles.
NO_ROLE = -1


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    color: str | None
    position: int
    permissions: frozenset[str]
    mentionable: bool


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    order: int


@dataclass(frozen=True)
class ChannelLink:
    """A child room of the space (a channel): ``order`` is m.space.child's string order."""

    room_id: str
    order: str | None
    category: str | None


@dataclass(frozen=True)
class Guild:
    room_id: str
    roles: Mapping[str, Role]
    member_roles: Mapping[str, frozenset[str]]
    members: frozenset[str]
    categories: Mapping[str, Category]
    channels: Mapping[str, ChannelLink]
    owner: str | None = None
    creators: frozenset[str] = field(default_factory=frozenset)


def _valid(event_type: str, state_key: str, content: Mapping[str, Any]) -> bool:
    if not content:  # deleted
        return False
    try:
        validate_state(event_type, state_key, content)
    except ChatSchemaError:
        return False
    return True


def guild_from_state(
    room_id: str,
    state: Mapping[tuple[str, str], Mapping[str, Any]],
    *,
    creators: Iterable[str] = (),
) -> Guild:
    """Read a space's current state, ``(type, state_key) -> content``.

    ``creators``: the room creators the caller knows beyond the create event content
    (in v12 the create event's *sender*, which the content does not name; for a guild that
    is the steward). ``additional_creators`` are read from the content.
    """
    roles: dict[str, Role] = {}
    member_roles: dict[str, frozenset[str]] = {}
    members: set[str] = set()
    categories: dict[str, Category] = {}
    channels: dict[str, ChannelLink] = {}
    all_creators = set(creators)
    owner: str | None = None
    for (event_type, state_key), content in state.items():
        if not isinstance(content, Mapping):
            continue
        if event_type == et.MEMBER:
            if content.get("membership") == "join":
                members.add(state_key)
        elif event_type == et.CREATE and state_key == "":
            extra = content.get("additional_creators")
            if isinstance(extra, list):
                all_creators.update(u for u in extra if isinstance(u, str))
            found = content.get(et.OWNER_FIELD)
            owner = found if isinstance(found, str) else None
        elif not _valid(event_type, state_key, content):
            continue
        elif event_type == et.ROLE:
            color = content.get("color")
            roles[state_key] = Role(
                id=state_key,
                name=content["name"],
                color=color if isinstance(color, str) else None,
                position=content["position"],
                permissions=frozenset(content.get("permissions", ())),
                mentionable=content.get("mentionable") is True,
            )
        elif event_type == et.MEMBER_ROLES:
            member_roles[et.member_roles_user(state_key)] = frozenset(content["roles"])
        elif event_type == et.CATEGORY:
            categories[state_key] = Category(state_key, content["name"], content["order"])
        elif event_type == et.SPACE_CHILD and content.get("via"):
            # spec: a child without a valid "via" is not a child.
            order = content.get("order")
            category = content.get(et.CHILD_CATEGORY_FIELD)
            channels[state_key] = ChannelLink(
                room_id=state_key,
                order=order if isinstance(order, str) else None,
                category=category if isinstance(category, str) else None,
            )
    return Guild(
        room_id=room_id,
        roles=roles,
        member_roles=member_roles,
        members=frozenset(members),
        categories=categories,
        channels=channels,
        owner=owner,
        creators=frozenset(all_creators),
    )


def _outranks_all(guild: Guild, user_id: str) -> bool:
    return user_id in guild.creators or (user_id == guild.owner and user_id in guild.members)


def roles_of(guild: Guild, user_id: str) -> frozenset[str]:
    """The existing roles a joined member holds (ids of deleted roles are dropped)."""
    if user_id not in guild.members:
        return frozenset()
    return frozenset(r for r in guild.member_roles.get(user_id, ()) if r in guild.roles)


def permissions_of(guild: Guild, user_id: str) -> frozenset[str]:
    """A user's guild-wide permissions; ``administrator`` implies all of them."""
    if _outranks_all(guild, user_id):
        return et.PERMISSIONS
    held: set[str] = set()
    for role_id in roles_of(guild, user_id):
        held |= guild.roles[role_id].permissions
    if et.ADMINISTRATOR in held:
        return et.PERMISSIONS
    return frozenset(held)


def is_admin(guild: Guild, user_id: str) -> bool:
    return et.ADMINISTRATOR in permissions_of(guild, user_id)


def highest_position(guild: Guild, user_id: str) -> int:
    """The user's rank: max role position, OUTRANKS_ALL for owner/creators, NO_ROLE else."""
    if _outranks_all(guild, user_id):
        return OUTRANKS_ALL
    positions = [guild.roles[r].position for r in roles_of(guild, user_id)]
    return max(positions, default=NO_ROLE)


def may_manage_role(guild: Guild, actor: str, role_id: str) -> bool:
    """Whether ``actor`` may edit or delete the existing role ``role_id`` (or create it,
    when absent: then only the new position matters, see ``may_set_role``)."""
    if et.MANAGE_ROLES not in permissions_of(guild, actor):
        return False
    role = guild.roles.get(role_id)
    return role is None or role.position < highest_position(guild, actor)


def may_set_role(guild: Guild, actor: str, role_id: str, new_position: int | None) -> bool:
    """Whether ``actor`` may write role ``role_id`` with ``new_position`` (None: delete)."""
    if not may_manage_role(guild, actor, role_id):
        return False
    return new_position is None or new_position < highest_position(guild, actor)


def may_assign_roles(guild: Guild, actor: str, target: str, new_roles: frozenset[str]) -> bool:
    """Whether ``actor`` may set ``target``'s member_roles to ``new_roles``.

    Every role added or removed must be one the actor manages; a role id that does not
    exist may be removed (it is stale) but not added. Another member must rank below the
    actor.
    """
    if et.MANAGE_ROLES not in permissions_of(guild, actor):
        return False
    rank = highest_position(guild, actor)
    if target != actor and highest_position(guild, target) >= rank:
        return False
    old_roles = guild.member_roles.get(target, frozenset())
    for role_id in old_roles ^ new_roles:
        role = guild.roles.get(role_id)
        if role is None:
            if role_id in new_roles:
                return False
            continue
        if role.position >= rank:
            return False
    return True


def role_members(guild: Guild, role_id: str) -> frozenset[str]:
    """Joined members holding ``role_id`` (empty if the role does not exist)."""
    if role_id not in guild.roles:
        return frozenset()
    holders = (user for user, roles in guild.member_roles.items() if role_id in roles)
    return frozenset(holders) & guild.members


def channel_order(guild: Guild) -> list[str]:
    """Channel room ids in display order.

    Uncategorised channels (or ones naming a missing category) come first, then categories
    by (order, id). Within a group, channels follow m.space.child ordering (spec:
    client-server "Spaces"): by ``order`` lexicographically, those without an order last,
    then by room id (we have no origin_server_ts here; the room id keeps it deterministic).
    """

    def key(link: ChannelLink) -> tuple[int, int, str, int, str, str]:
        category = guild.categories.get(link.category) if link.category else None
        group = (0, 0, "") if category is None else (1, category.order, category.id)
        return (*group, 0 if link.order is not None else 1, link.order or "", link.room_id)

    return [link.room_id for link in sorted(guild.channels.values(), key=key)]
