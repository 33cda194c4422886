"""Concord roles enforced by a real Synapse (issue 9): a Concord guild has a channel
writable only by the role "Mods"; a user of a Synapse peer joins the guild and the
channel. Before they hold Mods, Synapse ITSELF refuses their message (403 from its own
client API: the steward's power levels are ordinary Matrix state every server
enforces); once the guild's admin gives them Mods, the steward's new power levels reach
Synapse, their message goes through and the Concord admin receives it. And a Concord
DM (``/im.concord/dm``) with a Synapse user."""

from __future__ import annotations

from typing import Any

from homeserver.chat.event_types import (
    CHANNEL_PERMISSIONS,
    MEMBER_ROLES,
    ROLE,
    member_roles_key,
)

from .client import JsonDict, MxUser, q, room_section, wait_until
from .conftest import InteropEnv

GUILDS = "/_matrix/client/unstable/im.concord/guilds"
DM = "/_matrix/client/unstable/im.concord/dm"


def message_level(levels: JsonDict) -> int:
    events = levels.get("events", {})
    return int(events.get("m.room.message", levels.get("events_default", 0)))


def user_level(levels: JsonDict, user_id: str) -> int:
    return int(levels.get("users", {}).get(user_id, levels.get("users_default", 0)))


def may_write(user: MxUser, room: str, writer: str) -> bool | None:
    """Whether ``writer`` may post messages per ``user``'s server's current state."""
    levels = user.get_state(room, "m.room.power_levels")
    if levels is None:
        return None
    return user_level(levels, writer) >= message_level(levels)


def invited(room: str) -> Any:
    def check(batch: JsonDict) -> JsonDict | None:
        return room_section(batch, room, "invite") or None

    return check


def test_role_gated_channel_is_enforced_by_synapse(interop: InteropEnv) -> None:
    concord = interop.peer("concord0")
    synapse = interop.peer("synapse0")
    alice = MxUser.register(concord, "alice")
    sam = MxUser.register(synapse, "sam")

    # Alice creates a public guild and makes #general writable by Mods only.
    guild = alice.ok("POST", GUILDS, {"name": "Interop guild", "public": True})
    space = guild["room_id"]
    (general,) = [c["room_id"] for c in guild["channels"] if c["kind"] == "text"]
    alice.put_state(space, ROLE, {"name": "Mods", "position": 10}, "mods")
    alice.put_state(general, CHANNEL_PERMISSIONS, {"write": ["mods"]})
    wait_until(lambda: may_write(alice, general, sam.user_id) is False, "Mods-only #general")

    # Sam (on Synapse) joins the guild; the steward invites him to the channels he may
    # read; he joins #general through Concord.
    assert sam.join(space, via=concord.server_name) == space
    sam.sync_until(invited(general), f"the steward's invite to {general}")
    assert sam.join(general, via=concord.server_name) == general
    wait_until(lambda: sam.user_id in alice.joined_members(general), "sam in #general at A")
    sam.sync_until(lambda b: room_section(b, general) or None, f"{general} in sam's sync")
    wait_until(lambda: may_write(sam, general, sam.user_id) is False, "Synapse's view")

    # Synapse refuses Sam's message on its own: Concord never sees it.
    path = f"/rooms/{q(general)}/send/m.room.message/before-mods"
    status, body = sam.call("PUT", path, {"msgtype": "m.text", "body": "let me in"})
    assert (status, body.get("errcode")) == (403, "M_FORBIDDEN"), body
    assert alice.texts(general, "let me in") == []

    # Alice gives Sam the Mods role; the steward raises his level in #general.
    alice.put_state(space, MEMBER_ROLES, {"roles": ["mods"]}, member_roles_key(sam.user_id))
    wait_until(lambda: may_write(sam, general, sam.user_id), "Sam's new level at Synapse")
    event_id = sam.send_text(general, "hello mods")
    seen = alice.wait_for_event(general, event_id)
    assert seen["sender"] == sam.user_id and seen["content"]["body"] == "hello mods"

    # Losing the role closes the channel to him again, at Synapse too.
    alice.put_state(space, MEMBER_ROLES, {"roles": []}, member_roles_key(sam.user_id))
    wait_until(lambda: may_write(sam, general, sam.user_id) is False, "Sam demoted at Synapse")
    status, body = sam.call(
        "PUT", path.replace("before", "after"), {"msgtype": "m.text", "body": "x"}
    )
    assert (status, body.get("errcode")) == (403, "M_FORBIDDEN"), body


def test_dm_with_a_synapse_user(interop: InteropEnv) -> None:
    """A DM ("message this user") with a user of another server: one DM room, an is_direct
    invite Synapse shows as such, the same room when asked again after the join."""
    concord = interop.peer("concord0")
    synapse = interop.peer("synapse0")
    alice = MxUser.register(concord, "alice")
    sam = MxUser.register(synapse, "sam")
    room = alice.ok("POST", DM, {"user_id": sam.user_id})["room_id"]
    invite = sam.sync_until(invited(room), f"the DM invite to {room}")
    mine = [
        e
        for e in invite["invite_state"]["events"]
        if e["type"] == "m.room.member" and e["state_key"] == sam.user_id
    ]
    assert mine and mine[0]["content"].get("is_direct") is True, invite
    assert sam.join(room, via=concord.server_name) == room
    wait_until(lambda: sam.user_id in alice.joined_members(room), "sam in the DM at A")
    assert alice.ok("POST", DM, {"user_id": sam.user_id})["room_id"] == room
    event_id = sam.send_text(room, "hi alice")
    assert alice.wait_for_event(room, event_id)["content"]["body"] == "hi alice"
