"""The guild model: lenient reading, ranks, channel order and role mention targets."""

from __future__ import annotations

from homeserver.chat import event_types as et
from homeserver.chat.guild import (
    OUTRANKS_ALL,
    channel_order,
    guild_from_state,
    highest_position,
    may_assign_roles,
    may_manage_role,
    may_set_role,
    permissions_of,
    role_members,
)
from homeserver.chat.mentions import role_mention_targets

from .guild_builder import OWNER, SPACE, STEWARD, space_state

ADMIN = "@admin:example.org"
MOD = "@mod:example.org"
MEMBER = "@member:example.org"
GONE = "@gone:example.org"


def state() -> dict[tuple[str, str], dict[str, object]]:
    s = space_state(
        roles={
            "mods": {"name": "Mods", "position": 10, "permissions": ["manage_roles", "kick"]},
            "members": {"name": "Members", "position": 1, "mentionable": True},
            "bots": {"name": "Bots", "position": 20},
        },
        member_roles={ADMIN: ["admin"], MOD: ["mods"], MEMBER: ["members"], GONE: ["mods"]},
        members=[ADMIN, MOD, MEMBER],
    )
    return s


def test_ranks_and_permissions() -> None:
    g = guild_from_state(SPACE, state(), creators=[STEWARD])
    assert highest_position(g, OWNER) == highest_position(g, STEWARD) == OUTRANKS_ALL
    assert highest_position(g, ADMIN) == et.ADMIN_ROLE_POSITION
    assert highest_position(g, MOD) == 10
    assert highest_position(g, GONE) == -1  # left the guild: no roles count
    assert permissions_of(g, ADMIN) == et.PERMISSIONS
    assert permissions_of(g, GONE) == frozenset()
    assert role_members(g, "mods") == {MOD}


def test_who_manages_whom() -> None:
    g = guild_from_state(SPACE, state(), creators=[STEWARD])
    # Mods (10) manage Members (1) but not themselves, Bots (20) or Admin.
    assert may_manage_role(g, MOD, "members")
    assert not may_manage_role(g, MOD, "mods")
    assert not may_manage_role(g, MOD, "bots")
    assert not may_set_role(g, MOD, "new", 10)
    assert may_set_role(g, MOD, "new", 9)
    assert not may_set_role(g, MOD, "members", 10)  # cannot lift a role to their own rank
    assert may_assign_roles(g, MOD, MEMBER, frozenset())
    assert not may_assign_roles(g, MOD, MEMBER, frozenset({"members", "bots"}))
    assert not may_assign_roles(g, MOD, MEMBER, frozenset({"members", "nonexistent"}))
    # Admins manage every role but the Admin role itself; only the owner makes Admins.
    assert may_manage_role(g, ADMIN, "bots")
    assert not may_manage_role(g, ADMIN, "admin")
    assert not may_assign_roles(g, ADMIN, MEMBER, frozenset({"admin"}))
    assert may_assign_roles(g, OWNER, MEMBER, frozenset({"admin"}))
    assert not may_assign_roles(g, ADMIN, OWNER, frozenset())
    assert may_assign_roles(g, STEWARD, ADMIN, frozenset())
    # Without manage_roles, rank alone gives nothing.
    assert not may_manage_role(g, MEMBER, "members")


def test_malformed_remote_state_is_ignored() -> None:
    s = state()
    s[(et.ROLE, "evil")] = {"name": "Evil", "position": 5000, "permissions": ["administrator"]}
    s[(et.MEMBER_ROLES, et.member_roles_key(MEMBER))] = {"roles": ["evil", "members", "members"]}
    g = guild_from_state(SPACE, s)
    assert "evil" not in g.roles
    assert MEMBER not in g.member_roles
    assert permissions_of(g, MEMBER) == frozenset()


def test_channel_order_follows_categories_then_child_order() -> None:
    s = state()
    s[(et.CATEGORY, "text")] = {"name": "Text", "order": 1}
    s[(et.CATEGORY, "voice")] = {"name": "Voice", "order": 0}
    links: dict[str, dict[str, object]] = {
        "!t1:x": {"via": ["x"], "order": "b", "im.concord.category": "text"},
        "!t2:x": {"via": ["x"], "order": "a", "im.concord.category": "text"},
        "!v1:x": {"via": ["x"], "im.concord.category": "voice"},
        "!loose:x": {"via": ["x"], "order": "z"},
        "!lost:x": {"via": ["x"], "order": "a", "im.concord.category": "deleted"},
        "!unlinked:x": {},
    }
    for room, content in links.items():
        s[(et.SPACE_CHILD, room)] = content
    g = guild_from_state(SPACE, s)
    assert channel_order(g) == ["!lost:x", "!loose:x", "!v1:x", "!t2:x", "!t1:x"]
    # Moving a category moves its channels.
    s[(et.CATEGORY, "text")] = {"name": "Text", "order": 0}
    s[(et.CATEGORY, "voice")] = {"name": "Voice", "order": 5}
    g = guild_from_state(SPACE, s)
    assert channel_order(g) == ["!lost:x", "!loose:x", "!t2:x", "!t1:x", "!v1:x"]


def test_role_mention_targets() -> None:
    g = guild_from_state(SPACE, state(), creators=[STEWARD])
    body = {"body": "hey", et.ROLE_MENTIONS: ["mods", "members", "nope"]}
    # Members is mentionable, Mods is not: a plain member reaches only Members.
    assert role_mention_targets(g, MEMBER, body) == {MEMBER}
    # An Admin holds mention_roles: every mentioned role's joined members.
    assert role_mention_targets(g, ADMIN, body) == {MOD, MEMBER}
    assert role_mention_targets(g, ADMIN, {"body": "x", et.ROLE_MENTIONS: "mods"}) == set()
    assert role_mention_targets(g, ADMIN, {"body": "x"}) == set()
