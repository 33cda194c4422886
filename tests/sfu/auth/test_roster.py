"""Voice-channel presence: the SFU's bot publishes ``org.matrix.msc3401.call.member`` state
for each connected device, empties it when the device leaves, and at start empties what a
previous run left behind. (MSC3401/MSC4143; Concord issue 8.)"""

from __future__ import annotations

import asyncio

from sfu.access import Grant
from tests.conftest import FakeClock
from tests.support.matrix_client import User

from .conftest import BOT, VoiceSetup
from .harness import call_members, start_sfu, voice_room


def grant(user: User, room: str, device: str = "LAPTOP") -> Grant:
    return Grant(user.user_id, device, room, 2**50)


async def test_joining_and_leaving_publish_call_member_state(voice: VoiceSetup) -> None:
    alice = await voice.server.register("alice")
    room = await voice_room(alice, BOT)
    roster = voice.sfu.services.roster
    await roster.joined(grant(alice, room), "s1", ["audio", "screen"])
    key = f"_{alice.user_id}_LAPTOP"
    state = (await alice.call("GET", f"/rooms/{room}/state")).ok()
    event = next(e for e in state if e["state_key"] == key)
    assert event["sender"] == BOT
    assert event["content"] == {
        "application": "m.call",
        "call_id": "",
        "scope": "m.room",
        "device_id": "LAPTOP",
        "focus_active": {"type": "im.concord.sfu", "url": voice.sfu.url},
        "foci_preferred": [{"type": "im.concord.sfu", "url": voice.sfu.url}],
        "im.concord.user_id": alice.user_id,
        "im.concord.tracks": ["audio", "screen"],
    }
    assert roster.participants(room) == {alice.user_id}
    await roster.left(grant(alice, room), "s1")
    assert (await call_members(alice, room))[key] == {}
    assert roster.participants(room) == set()


async def test_an_old_session_leaving_keeps_the_new_sessions_presence(voice: VoiceSetup) -> None:
    alice = await voice.server.register("alice")
    room = await voice_room(alice, BOT)
    roster = voice.sfu.services.roster
    await roster.joined(grant(alice, room), "old", ["audio"])
    await roster.joined(grant(alice, room), "new", ["audio", "webcam"])  # reconnected
    await roster.left(grant(alice, room), "old")  # the old socket's drop timer fires
    members = await call_members(alice, room)
    assert members[f"_{alice.user_id}_LAPTOP"]["im.concord.tracks"] == ["audio", "webcam"]


async def test_a_restarted_sfu_clears_the_presence_of_its_previous_run(
    voice: VoiceSetup, clock: FakeClock
) -> None:
    alice = await voice.server.register("alice")
    bob = await voice.server.register("bob")
    room = await voice_room(alice, BOT)
    other = await voice_room(alice, BOT)
    (await bob.join(room)).ok()
    roster = voice.sfu.services.roster
    await roster.joined(grant(alice, room), "a", ["audio"])
    await roster.joined(grant(bob, room, "PHONE"), "b", ["audio"])
    await roster.joined(grant(alice, other), "c", ["webcam"])
    # A participant's own call.member (e.g. Element Call's) is not the SFU's to clear.
    own = {"application": "m.call", "call_id": "", "scope": "m.room", "device_id": "X"}
    (await bob.put_state(room, "org.matrix.msc3401.call.member", own, f"_{bob.user_id}_X")).ok()
    # In the third room the bot loses the power to send call.member: that room stays as
    # it is, the others are still cleared.
    locked = await voice_room(alice, BOT)
    await roster.joined(grant(alice, locked), "d", ["audio"])
    levels = (await alice.call("GET", f"/rooms/{locked}/state/m.room.power_levels/")).ok()
    levels["events"]["org.matrix.msc3401.call.member"] = 100
    (await alice.put_state(locked, "m.room.power_levels", levels)).ok()
    await voice.sfu.stop()  # a crash: nobody's leave was published

    restarted = await start_sfu(voice.sfu.config, clock)
    voice.sfu = restarted  # stopped by the fixture
    await asyncio.wait_for(restarted.services.stale_cleared.wait(), 10)
    members = await call_members(alice, room)
    assert members[f"_{alice.user_id}_LAPTOP"] == {}
    assert members[f"_{bob.user_id}_PHONE"] == {}
    assert members[f"_{bob.user_id}_X"] == own
    assert (await call_members(alice, other))[f"_{alice.user_id}_LAPTOP"] == {}
    assert (await call_members(alice, locked))[f"_{alice.user_id}_LAPTOP"] != {}


async def test_without_the_power_to_publish_the_call_still_works(voice: VoiceSetup) -> None:
    """A room whose power levels do not let the bot send call.member: presence is not
    shown (logged), the participant is not refused."""
    alice = await voice.server.register("alice")
    room = await voice_room(alice, BOT, power_level_content_override={"events_default": 50})
    await voice.sfu.services.roster.joined(grant(alice, room), "s", ["audio"])
    assert await call_members(alice, room) == {}
    assert voice.sfu.services.roster.participants(room) == {alice.user_id}
