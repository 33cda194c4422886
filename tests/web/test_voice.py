"""Two people in a guild's voice channel, each in their own Chromium context with fake
devices (a test-pattern camera, a beeping microphone, the screen without a picker): they
join through the SFU, each sees the other's webcam and screen share *playing* (frames
decoded: videoWidth > 0 and currentTime advancing), the speaking ring, mute and deafen
on the other side, and leaving removes them."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import quote

from playwright.sync_api import Locator, Page, expect

from .harness import Stack, UserPage, screenshot
from .test_shell_guild import create_guild, invite_and_join

LONG = 30_000


def open_voice_channel(user: UserPage, name: str = "General") -> str:
    """Open the voice channel; its room id."""
    user.page.get_by_role("button", name=f"Voice channel {name}").click(timeout=LONG)
    view = user.page.get_by_role("region", name=f"Voice channel {name}")
    expect(view).to_be_visible(timeout=LONG)
    room_id = view.get_attribute("data-room-id")
    assert room_id
    return room_id


def voice_view(page: Page, name: str = "General") -> Locator:
    return page.get_by_role("region", name=f"Voice channel {name}")


def wait_for_sfu_bot(stack: Stack, user: UserPage, room_id: str) -> None:
    """The steward invites the SFU's bot into voice channels and the bot joins (async):
    before that, the SFU refuses tokens for the room."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        members = stack.api(
            "GET",
            f"/_matrix/client/v3/rooms/{quote(room_id)}/joined_members",
            None,
            user.access_token,
        )["joined"]
        if any(m.startswith("@sfu:") for m in members):
            return
        time.sleep(0.2)
    raise AssertionError(f"the SFU bot did not join {room_id}")


def join_voice(user: UserPage) -> float:
    """Click Join voice; the seconds until the call is connected (for the report)."""
    started = time.monotonic()
    user.page.get_by_role("button", name="Join voice").click()
    expect(voice_view(user.page).get_by_role("status")).to_have_text(
        "Voice connected", timeout=LONG
    )
    return time.monotonic() - started


def tile(page: Page, user: UserPage) -> Locator:
    return page.locator(f'[data-testid="voice-participant"][data-user-id="{user.user_id}"]')


def assert_playing(page: Page, label: str) -> None:
    """The video labelled ``label`` decodes frames and its playback advances."""
    video = page.get_by_label(label, exact=True)
    expect(video).to_have_count(1, timeout=LONG)
    video.evaluate(
        """v => new Promise((resolve, reject) => {
            const t0 = Date.now();
            const check = () => {
                if (v.videoWidth > 0 && v.currentTime > 0) return resolve();
                if (Date.now() - t0 > 20000) return reject(new Error(`not playing: ` +
                    `${v.videoWidth}x${v.videoHeight} t=${v.currentTime} ready=${v.readyState}`));
                setTimeout(check, 100);
            };
            check();
        })"""
    )
    before = video.evaluate("v => v.currentTime")
    page.wait_for_timeout(800)
    after = video.evaluate("v => v.currentTime")
    assert after > before, f"{label}: currentTime stuck at {before}"


def two_in_a_call(
    stack: Stack, user_page: Callable[[str], UserPage], guild: str
) -> tuple[UserPage, UserPage]:
    """alice (the guild's owner) and bob (a member), both connected to its voice channel."""
    alice, bob = user_page("alice"), user_page("bob")
    create_guild(alice.page, guild)
    invite_and_join(alice, bob, guild)
    room_id = open_voice_channel(alice)
    assert open_voice_channel(bob) == room_id
    wait_for_sfu_bot(stack, alice, room_id)
    print(f"join voice (click to connected): {join_voice(alice):.2f} s")
    # Before joining, bob sees who is in the channel (its call.member state).
    expect(bob.page.get_by_test_id("voice-member")).to_have_attribute(
        "data-user-id", alice.user_id, timeout=LONG
    )
    join_voice(bob)
    for page in (alice.page, bob.page):
        expect(page.get_by_test_id("voice-participant")).to_have_count(2, timeout=LONG)
    return alice, bob


def test_two_people_in_a_voice_channel(stack: Stack, user_page: Callable[[str], UserPage]) -> None:
    alice, bob = two_in_a_call(stack, user_page, "Voice Club")

    # The fake microphone beeps: the speaker's ring lights up on the other side.
    expect(tile(bob.page, alice)).to_have_attribute("data-speaking", "true", timeout=LONG)

    # Webcams and screen shares, both ways.
    started = time.monotonic()
    for user in (alice, bob):
        user.page.get_by_role("button", name="Camera", exact=True).click()
        user.page.get_by_role("button", name="Share screen", exact=True).click()
        expect(user.page.get_by_role("button", name="Share screen", exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )
    assert_playing(bob.page, f"Webcam of {alice.localpart}")
    print(f"camera click to the other's webcam playing: {time.monotonic() - started:.2f} s")
    assert_playing(alice.page, "Webcam of you")
    for viewer, other in ((alice, bob), (bob, alice)):
        assert_playing(viewer.page, f"Webcam of {other.localpart}")
        assert_playing(viewer.page, f"Screen of {other.localpart}")
    screenshot(alice.page, "voice-call")
    screenshot(bob.page, "voice-call-bob")

    # Mute shows on the other side; deafen too (and deafening mutes, as in Discord).
    alice.page.get_by_role("button", name="Mute", exact=True).click()
    expect(tile(bob.page, alice).get_by_role("img", name="Muted", exact=True)).to_be_visible(
        timeout=LONG
    )
    expect(tile(bob.page, alice)).to_have_attribute("data-speaking", "false", timeout=LONG)
    bob.page.get_by_role("button", name="Deafen", exact=True).click()
    expect(tile(alice.page, bob).get_by_role("img", name="Deafened")).to_be_visible(timeout=LONG)
    expect(tile(alice.page, bob).get_by_role("img", name="Muted", exact=True)).to_be_visible()
    muted_outputs = bob.page.evaluate(
        "[...document.querySelectorAll('audio[data-voice-audio]')].map(a => a.muted)"
    )
    assert muted_outputs and all(muted_outputs), muted_outputs
    bob.page.get_by_role("button", name="Deafen", exact=True).click()
    expect(tile(alice.page, bob).get_by_role("img", name="Deafened")).to_have_count(0, timeout=LONG)
    expect(tile(alice.page, bob).get_by_role("img", name="Muted", exact=True)).to_have_count(0)

    # Stopping the screen share removes it on the other side.
    bob.page.get_by_role("button", name="Share screen", exact=True).click()
    expect(alice.page.get_by_label(f"Screen of {bob.localpart}", exact=True)).to_have_count(
        0, timeout=LONG
    )

    # Leaving removes alice for bob; alice is back at the channel's lobby.
    alice.page.get_by_role("button", name="Leave", exact=True).click()
    expect(alice.page.get_by_role("button", name="Join voice")).to_be_visible(timeout=LONG)
    expect(tile(bob.page, alice)).to_have_count(0, timeout=LONG)
    expect(bob.page.get_by_test_id("voice-participant")).to_have_count(1)
    expect(bob.page.get_by_label(f"Webcam of {alice.localpart}", exact=True)).to_have_count(0)
    screenshot(bob.page, "voice-after-leave")


def test_moderator_mute_and_reconnect_after_the_sfu_restarts(
    stack: Stack, user_page: Callable[[str], UserPage]
) -> None:
    alice, bob = two_in_a_call(stack, user_page, "Mod Club")
    # The owner mutes bob for everyone: both see it; bob (no power) gets no such button.
    expect(
        bob.page.get_by_role("button", name=f"Mute {alice.localpart} for everyone")
    ).to_have_count(0)
    alice.page.get_by_role("button", name=f"Mute {bob.localpart} for everyone").click()
    for page in (alice.page, bob.page):
        expect(tile(page, bob).get_by_role("img", name="Muted by a moderator")).to_be_visible(
            timeout=LONG
        )
    expect(voice_view(bob.page).get_by_role("note")).to_have_text(
        "A moderator muted you: the others can't hear you."
    )
    alice.page.get_by_role("button", name=f"Unmute {bob.localpart} for everyone").click()
    expect(tile(bob.page, bob).get_by_role("img", name="Muted by a moderator")).to_have_count(
        0, timeout=LONG
    )
    expect(voice_view(bob.page).get_by_role("note")).to_have_count(0)

    # The SFU goes away and comes back: both clients reconnect by themselves (new JWT,
    # new peer connections, the webcam published again) and see each other again.
    bob.page.get_by_role("button", name="Camera", exact=True).click()
    assert_playing(alice.page, f"Webcam of {bob.localpart}")
    sessions = {
        u.localpart: tile(alice.page, u).get_attribute("data-session-id") for u in (alice, bob)
    }
    stack.restart_sfu()
    for page in (alice.page, bob.page):
        expect(page.get_by_test_id("voice-participant")).to_have_count(2, timeout=LONG)
        for user in (alice, bob):  # new sessions: the clients really joined again
            expect(tile(page, user)).not_to_have_attribute(
                "data-session-id", sessions[user.localpart] or "", timeout=LONG
            )
        expect(voice_view(page).get_by_role("status")).to_have_text("Voice connected", timeout=LONG)
    assert_playing(alice.page, f"Webcam of {bob.localpart}")
    expect(bob.page.get_by_role("button", name="Camera", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    screenshot(alice.page, "voice-after-reconnect")


def test_the_call_goes_on_elsewhere_and_joining_another_channel_leaves(
    stack: Stack, user_page: Callable[[str], UserPage]
) -> None:
    alice, bob = two_in_a_call(stack, user_page, "Switch Club")
    # Reading a text channel does not hang up: bob still has alice in the call.
    alice.page.get_by_role("button", name="Text channel general").click()
    expect(voice_view(alice.page)).to_have_count(0)
    bob.page.wait_for_timeout(1500)
    expect(tile(bob.page, alice)).to_have_count(1)
    # The "Voice connected" panel above the user panel says where the call is, and its
    # Disconnect leaves from here: bob sees alice go, and the panel goes away.
    panel = alice.page.get_by_role("region", name="Voice status")
    expect(panel).to_contain_text("Voice connected")
    expect(panel).to_contain_text("General")
    screenshot(alice.page, "voice-status-panel")
    panel.get_by_role("button", name="Disconnect").click()
    expect(tile(bob.page, alice)).to_have_count(0, timeout=LONG)
    expect(panel).to_have_count(0)
    open_voice_channel(alice)
    join_voice(alice)
    # From a text channel, the panel leads back to the call's channel.
    alice.page.get_by_role("button", name="Text channel general").click()
    expect(voice_view(alice.page)).to_have_count(0)
    panel.get_by_role("button", name="General").click()
    expect(voice_view(alice.page).get_by_role("status")).to_have_text("Voice connected")
    # A second voice channel: joining it leaves the first (one call at a time).
    alice.page.get_by_role("button", name="Create channel in Voice").click()
    dialog = alice.page.get_by_role("dialog", name="Create channel")
    dialog.get_by_role("radio", name="Voice").check()
    dialog.get_by_label("Channel name").fill("Stage")
    dialog.get_by_role("button", name="Create channel").click()
    stage = open_voice_channel(alice, "Stage")
    wait_for_sfu_bot(stack, alice, stage)
    expect(voice_view(alice.page, "Stage").get_by_text("Joining leaves General.")).to_be_visible()
    alice.page.get_by_role("button", name="Join voice").click()
    expect(voice_view(alice.page, "Stage").get_by_role("status")).to_have_text(
        "Voice connected", timeout=LONG
    )
    expect(tile(bob.page, alice)).to_have_count(0, timeout=LONG)
    expect(alice.page.get_by_test_id("voice-participant")).to_have_count(1)
    screenshot(alice.page, "voice-second-channel")
