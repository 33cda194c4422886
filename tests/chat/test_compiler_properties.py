"""Property tests of the permission compiler (issue 9): it fails closed, whatever the guild.

Capabilities are judged here from the guild state directly (the test's own reading of
DESIGN.md), and compared with what the compiled power levels let each user do.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from homeserver.chat import event_types as et
from homeserver.chat.compiler import ChannelPlan, compile_channel, compile_guild_power_levels
from homeserver.chat.guild import (
    OUTRANKS_ALL,
    Guild,
    guild_from_state,
    highest_position,
    may_assign_roles,
    may_set_role,
    role_members,
)
from homeserver.chat.mentions import role_mention_targets
from homeserver.protocol.power_levels import PowerLevels
from homeserver.protocol.room_versions import KNOWN_ROOM_VERSIONS

from .guild_builder import SPACE, STEWARD, State

V12 = KNOWN_ROOM_VERSIONS["12"]
USERS = [f"@u{i}:example.org" for i in range(5)]
ROLE_IDS = ["admin", "r1", "r2", "r3", "r4"]
SFU = "@sfu:example.org"

role_content = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["A", "B", "Mods"]),
        "position": st.integers(0, et.ROLE_POSITION_MAX),
        "permissions": st.lists(st.sampled_from(sorted(et.PERMISSIONS)), unique=True),
    },
    optional={"mentionable": st.booleans()},
)


@st.composite
def guild_states(draw: st.DrawFn) -> State:
    state: State = {(et.CREATE, ""): {"type": "m.space"}}
    state[(et.MEMBER, STEWARD)] = {"membership": "join"}
    for user in USERS:
        membership = draw(st.sampled_from(["join", "join", "leave", None]))
        if membership:
            state[(et.MEMBER, user)] = {"membership": membership}
        held = draw(st.lists(st.sampled_from([*ROLE_IDS, "gone"]), unique=True, max_size=3))
        if held:
            state[(et.MEMBER_ROLES, et.member_roles_key(user))] = {"roles": held}
    for role_id in ROLE_IDS:
        if draw(st.booleans()):
            state[(et.ROLE, role_id)] = draw(role_content)
    if draw(st.booleans()):  # malformed content, as a remote server could send: ignored
        state[(et.ROLE, "r4")] = {"name": "", "position": -5, "permissions": ["administrator"]}
    return state


channel_permissions = st.dictionaries(
    st.sampled_from(sorted(et.CHANNEL_ACTIONS)),
    st.lists(st.sampled_from([*ROLE_IDS, "gone"]), unique=True, max_size=3),
)


def guild(state: State) -> Guild:
    return guild_from_state(SPACE, state, creators=[STEWARD])


def plan_of(state: State, perms: dict[str, Any], voice: bool = False) -> ChannelPlan:
    return compile_channel(
        guild(state), perms, {}, steward=STEWARD, is_voice=voice, service_users={SFU: 50}
    )


def held_permissions(state: State, user: str) -> set[str]:
    """The test's own reading: joined + well-formed roles it holds -> permission names."""
    if state.get((et.MEMBER, user), {}).get("membership") != "join":
        return set()
    out: set[str] = set()
    for role_id in state.get((et.MEMBER_ROLES, et.member_roles_key(user)), {}).get("roles", []):
        content = state.get((et.ROLE, role_id))
        if content and content.get("name") and content.get("position", -1) >= 0:
            out |= set(content.get("permissions", []))
    return set(et.PERMISSIONS) if "administrator" in out else out


def may(state: State, perms: dict[str, Any], user: str, action: str) -> bool:
    if state.get((et.MEMBER, user), {}).get("membership") != "join":
        return False
    if "administrator" in held_permissions(state, user) or action not in perms:
        return True
    roles = state.get((et.MEMBER_ROLES, et.member_roles_key(user)), {}).get("roles", [])
    return any(r in perms[action] and (et.ROLE, r) in state for r in roles)


def levels(plan_pl: dict[str, Any]) -> PowerLevels:
    return PowerLevels.from_content(plan_pl, V12)


def remove_a_role(state: State, data: st.DataObject) -> tuple[State, str] | None:
    holders = [
        et.member_roles_user(k[1]) for k in state if k[0] == et.MEMBER_ROLES and state[k]["roles"]
    ]
    if not holders:
        return None
    user = data.draw(st.sampled_from(sorted(holders)))
    roles = list(state[(et.MEMBER_ROLES, et.member_roles_key(user))]["roles"])
    roles.remove(data.draw(st.sampled_from(roles)))
    after = dict(state)
    after[(et.MEMBER_ROLES, et.member_roles_key(user))] = {"roles": roles}
    return after, user


@settings(deadline=None, max_examples=300)
@given(guild_states(), channel_permissions, st.booleans(), st.data())
def test_removing_a_role_never_grants_anything(
    state: State, perms: dict[str, Any], voice: bool, data: st.DataObject
) -> None:
    removed = remove_a_role(state, data)
    if removed is None:
        return
    after, user = removed
    before_plan, after_plan = plan_of(state, perms, voice), plan_of(after, perms, voice)
    b, a = levels(before_plan.power_levels), levels(after_plan.power_levels)
    assert a.user_level(user) <= b.user_level(user)
    assert user in before_plan.readers or user not in after_plan.readers
    # The rooms' requirements do not move with one member's roles.
    assert a.events == b.events and (a.redact, a.kick, a.ban) == (b.redact, b.kick, b.ban)
    g_before = levels(compile_guild_power_levels(guild(state), {}, steward=STEWARD))
    g_after = levels(compile_guild_power_levels(guild(after), {}, steward=STEWARD))
    assert g_after.user_level(user) <= g_before.user_level(user)


@settings(deadline=None, max_examples=200)
@given(guild_states(), channel_permissions, st.booleans())
def test_admin_can_everything(state: State, perms: dict[str, Any], voice: bool) -> None:
    plan = plan_of(state, perms, voice)
    pl = levels(plan.power_levels)
    space = levels(compile_guild_power_levels(guild(state), {}, steward=STEWARD))
    for user in USERS:
        if "administrator" not in held_permissions(state, user):
            continue
        assert user in plan.readers
        for room in (pl, space):
            level = room.user_level(user)
            requirements = [room.redact, room.kick, room.ban, room.invite, room.state_default]
            requirements += [room.events_default, *room.events.values()]
            assert level >= max(requirements)


@settings(deadline=None, max_examples=300)
@given(guild_states(), channel_permissions, st.booleans())
def test_nobody_reaches_the_level_of_a_capability_they_lack(
    state: State, perms: dict[str, Any], voice: bool
) -> None:
    plan = plan_of(state, perms, voice)
    pl = levels(plan.power_levels)
    space = levels(compile_guild_power_levels(guild(state), {}, steward=STEWARD))
    for user in USERS:
        held = held_permissions(state, user)
        level = pl.user_level(user)
        joined = state.get((et.MEMBER, user), {}).get("membership") == "join"
        if not joined:
            # An action open to "everyone in the guild" is level 0: a user who left the
            # guild keeps it only until the steward kicks them, since they lost read.
            assert user not in plan.readers and level == 0 and space.user_level(user) == 0
            continue
        if not may(state, perms, user, et.WRITE):
            assert level < pl.event_level("m.room.message", False)
            assert level < pl.events_default
        if not may(state, perms, user, et.EDIT_DESCRIPTION):
            assert level < pl.event_level("m.room.topic", True)
        if not may(state, perms, user, et.READ):
            assert user not in plan.readers
        if et.DELETE_MESSAGES not in held:
            assert level < pl.redact
        channel_checks = {
            et.KICK: pl.kick,
            et.BAN: pl.ban,
            et.MANAGE_CHANNELS: pl.event_level("m.room.name", True),
            et.ADMINISTRATOR: pl.event_level(et.POWER_LEVELS, True),
        }
        space_checks = {
            et.KICK: space.kick,
            et.BAN: space.ban,
            et.MANAGE_CHANNELS: space.event_level(et.SPACE_CHILD, True),
            et.MANAGE_ROLES: space.event_level(et.MEMBER_ROLES, True),
            et.MANAGE_GUILD: space.event_level("m.room.name", True),
            et.ADMINISTRATOR: space.event_level(et.POWER_LEVELS, True),
        }
        for capability, required in channel_checks.items():
            if capability not in held:
                assert level < required, capability
        for capability, required in space_checks.items():
            if capability not in held:
                assert space.user_level(user) < required, capability


@settings(deadline=None, max_examples=200)
@given(guild_states(), channel_permissions, st.booleans(), st.randoms())
def test_result_independent_of_state_order(
    state: State, perms: dict[str, Any], voice: bool, rnd: random.Random
) -> None:
    items = list(state.items())
    rnd.shuffle(items)
    shuffled = dict(items)
    assert plan_of(shuffled, perms, voice) == plan_of(state, perms, voice)
    assert compile_guild_power_levels(guild(shuffled), {}, steward=STEWARD) == (
        compile_guild_power_levels(guild(state), {}, steward=STEWARD)
    )


@settings(deadline=None, max_examples=200)
@given(guild_states(), channel_permissions, st.booleans())
def test_readers_are_members_and_compiling_is_idempotent(
    state: State, perms: dict[str, Any], voice: bool
) -> None:
    g = guild(state)
    plan = plan_of(state, perms, voice)
    assert plan.readers <= g.members
    again = compile_channel(
        g, perms, plan.power_levels, steward=STEWARD, is_voice=voice, service_users={SFU: 50}
    )
    assert again == plan
    space = compile_guild_power_levels(g, {"events": {"x.custom": 7}}, steward=STEWARD)
    assert compile_guild_power_levels(g, space, steward=STEWARD) == space
    assert space["events"]["x.custom"] == 7
    # Creators are never listed (room v12 auth rule 10.4).
    assert STEWARD not in plan.power_levels["users"] and STEWARD not in space["users"]


@settings(deadline=None, max_examples=300)
@given(guild_states(), st.data())
def test_nobody_manages_a_role_at_or_above_their_own(state: State, data: st.DataObject) -> None:
    g = guild(state)
    actor = data.draw(st.sampled_from(USERS))
    role_id = data.draw(st.sampled_from(ROLE_IDS))
    position = data.draw(st.integers(0, et.ROLE_POSITION_MAX))
    rank = highest_position(g, actor)
    assert rank < OUTRANKS_ALL  # no owner in these guilds
    if may_set_role(g, actor, role_id, position):
        assert position < rank
        assert role_id not in g.roles or g.roles[role_id].position < rank
        assert et.MANAGE_ROLES in held_permissions(state, actor)
    target = data.draw(st.sampled_from(USERS))
    new_roles = frozenset(data.draw(st.lists(st.sampled_from(ROLE_IDS), unique=True)))
    if may_assign_roles(g, actor, target, new_roles):
        old = g.member_roles.get(target, frozenset())
        for changed in (old ^ new_roles) & set(g.roles):
            assert g.roles[changed].position < rank
        assert target == actor or highest_position(g, target) < rank


@settings(deadline=None, max_examples=200)
@given(guild_states(), st.data())
def test_role_mentions_reach_only_the_mentioned_roles_members(
    state: State, data: st.DataObject
) -> None:
    g = guild(state)
    sender = data.draw(st.sampled_from(USERS))
    mentioned = data.draw(st.lists(st.sampled_from([*ROLE_IDS, "gone"]), unique=True))
    targets = role_mention_targets(g, sender, {"body": "x", et.ROLE_MENTIONS: mentioned})
    everyone = frozenset().union(*(role_members(g, r) for r in mentioned))
    assert targets <= everyone <= g.members
    if et.MENTION_ROLES in held_permissions(state, sender):
        assert targets == everyone
