"""The permission compiler on examples: what each role can do in a channel and the space."""

from __future__ import annotations

from homeserver.chat import event_types as et
from homeserver.chat.compiler import (
    LEVEL_ADMIN,
    compile_channel,
    compile_guild_power_levels,
)
from homeserver.chat.guild import Guild, guild_from_state
from homeserver.protocol.power_levels import PowerLevels
from homeserver.protocol.room_versions import KNOWN_ROOM_VERSIONS

from .guild_builder import OWNER, SPACE, STEWARD, space_state

V12 = KNOWN_ROOM_VERSIONS["12"]
ADMIN = "@admin:example.org"
MOD = "@mod:example.org"
MEMBER = "@member:example.org"
LEFT = "@left:example.org"
SFU = "@sfu:example.org"


def guild() -> Guild:
    state = space_state(
        roles={
            "mods": {
                "name": "Mods",
                "position": 10,
                "permissions": ["delete_messages", "kick", "ban", "mention_roles"],
            },
            "members": {"name": "Members", "position": 1},
        },
        member_roles={
            ADMIN: ["admin"],
            MOD: ["mods", "members"],
            MEMBER: ["members"],
            LEFT: ["admin"],
        },
        members=[ADMIN, MOD, MEMBER],
    )
    state[(et.MEMBER, LEFT)] = {"membership": "leave"}
    return guild_from_state(SPACE, state, creators=[STEWARD])


def can(pl: dict[str, object], user: str, event_type: str, *, state: bool = False) -> bool:
    levels = PowerLevels.from_content(pl, V12)
    return levels.user_level(user) >= levels.event_level(event_type, state)


def test_open_channel_everyone_reads_and_writes_restricted_to_the_space() -> None:
    plan = compile_channel(guild(), {}, {}, steward=STEWARD, is_voice=False)
    assert plan.readers == {STEWARD, OWNER, ADMIN, MOD, MEMBER}
    assert plan.join_rule == "restricted"
    assert plan.allow == ({"type": "m.room_membership", "room_id": SPACE},)
    assert plan.power_levels["events_default"] == 0
    assert can(plan.power_levels, MEMBER, "m.room.message")
    assert can(plan.power_levels, MEMBER, "m.room.topic", state=True)
    assert not can(plan.power_levels, MEMBER, "m.room.name", state=True)
    # The steward is the v12 creator: never listed (auth rule 10.4 would reject it).
    assert STEWARD not in plan.power_levels["users"]
    assert plan.power_levels["users"][ADMIN] == LEVEL_ADMIN
    assert plan.power_levels["users"][OWNER] == LEVEL_ADMIN
    assert LEFT not in plan.power_levels["users"]


def test_mods_only_channel_hides_it_from_members() -> None:
    perms = {"read": ["mods"], "write": ["mods"], "edit_description": ["mods"]}
    plan = compile_channel(guild(), perms, {}, steward=STEWARD, is_voice=False)
    assert plan.readers == {STEWARD, OWNER, ADMIN, MOD}
    assert (plan.join_rule, plan.allow) == ("invite", ())
    pl = plan.power_levels
    assert can(pl, MOD, "m.room.message") and not can(pl, MEMBER, "m.room.message")
    assert can(pl, MOD, "m.room.topic", state=True)
    assert not can(pl, MEMBER, "m.room.topic", state=True)
    levels = PowerLevels.from_content(pl, V12)
    assert levels.user_level(MOD) >= levels.redact
    assert levels.user_level(MEMBER) < levels.redact
    # Invites are the steward's: nobody but Admins may invite into a gated channel.
    assert levels.user_level(MOD) < levels.invite <= levels.user_level(ADMIN)


def test_write_only_for_mods_but_everyone_reads() -> None:
    plan = compile_channel(guild(), {"write": ["mods"]}, {}, steward=STEWARD, is_voice=False)
    assert MEMBER in plan.readers and plan.join_rule == "restricted"
    assert not can(plan.power_levels, MEMBER, "m.room.message")
    assert can(plan.power_levels, MEMBER, "m.room.redaction")  # own messages stay deletable


def test_a_missing_low_rung_caps_the_level() -> None:
    # Mods may delete but not write: the ladder puts write below redact, so they get
    # neither (fail closed) rather than a level that would also let them write.
    perms = {"write": ["members-only"]}
    plan = compile_channel(guild(), perms, {}, steward=STEWARD, is_voice=False)
    pl = plan.power_levels
    assert not can(pl, MOD, "m.room.message")
    assert PowerLevels.from_content(pl, V12).user_level(MOD) == 0
    assert can(pl, ADMIN, "m.room.message")


def test_voice_channel_lets_members_publish_call_membership() -> None:
    current = {
        "events": {et.CALL_MEMBER: 100, "com.example.custom": 42},
        "notifications": {"room": 20},
    }
    plan = compile_channel(
        guild(), {}, current, steward=STEWARD, is_voice=True, service_users={SFU: 50}
    )
    assert plan.power_levels["events"][et.CALL_MEMBER] == 0
    assert can(plan.power_levels, MEMBER, et.CALL_MEMBER, state=True)
    assert plan.power_levels["users"][SFU] == 50
    # Unrelated keys survive.
    assert plan.power_levels["events"]["com.example.custom"] == 42
    assert plan.power_levels["notifications"] == {"room": 20}
    text = compile_channel(guild(), {}, plan.power_levels, steward=STEWARD, is_voice=False)
    assert et.CALL_MEMBER not in text.power_levels["events"]


def test_compiler_overrides_owned_levels_someone_lowered() -> None:
    hostile = {
        "users": {MEMBER: 100, STEWARD: 100},
        "users_default": 50,
        "events": {"m.room.message": 0, "m.room.power_levels": 0},
        "redact": 0,
        "invite": 0,
    }
    plan = compile_channel(guild(), {"write": ["mods"]}, hostile, steward=STEWARD, is_voice=False)
    pl = plan.power_levels
    assert not can(pl, MEMBER, "m.room.message")
    assert not can(pl, MEMBER, et.POWER_LEVELS, state=True)
    assert pl["users_default"] == 0 and MEMBER not in pl["users"] and STEWARD not in pl["users"]


def test_malformed_channel_permissions_allow_nobody_but_admins() -> None:
    plan = compile_channel(guild(), {"read": "mods"}, {}, steward=STEWARD, is_voice=False)
    assert plan.readers == {STEWARD, OWNER, ADMIN}


def test_guild_power_levels() -> None:
    pl = compile_guild_power_levels(guild(), {}, steward=STEWARD)
    assert can(pl, ADMIN, et.ROLE, state=True)
    assert not can(pl, MOD, et.ROLE, state=True)
    assert not can(pl, MEMBER, et.SPACE_CHILD, state=True)
    levels = PowerLevels.from_content(pl, V12)
    assert levels.user_level(MOD) >= levels.kick and levels.user_level(MOD) >= levels.ban
    assert levels.user_level(MEMBER) < levels.kick
    assert STEWARD not in pl["users"]


def test_manage_roles_alone_without_lower_rungs_gets_nothing_in_the_space() -> None:
    state = space_state(
        roles={"roler": {"name": "R", "position": 5, "permissions": ["manage_roles"]}},
        member_roles={MEMBER: ["roler"]},
        members=[MEMBER],
    )
    pl = compile_guild_power_levels(guild_from_state(SPACE, state), {}, steward=STEWARD)
    assert not can(pl, MEMBER, et.ROLE, state=True)
    full = ["kick", "ban", "manage_channels", "manage_roles"]
    state[(et.ROLE, "roler")] = {"name": "R", "position": 5, "permissions": full}
    pl = compile_guild_power_levels(guild_from_state(SPACE, state), {}, steward=STEWARD)
    assert can(pl, MEMBER, et.ROLE, state=True)
    assert not can(pl, MEMBER, "m.room.name", state=True)
