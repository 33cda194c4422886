"""A user of another homeserver in a guild's voice channel: carol (second server, no SFU
of its own) joins first, finding the guild's SFU through the server that made the room;
the SFU checks her OpenID token with her server over federation; then alice (the guild's
server) joins and each sees the other's webcam playing."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from .harness import Stack, UserPage, screenshot
from .test_shell_guild import create_guild, invite_and_join
from .test_voice import LONG, assert_playing, join_voice, open_voice_channel, wait_for_sfu_bot


def test_a_user_of_another_server_in_a_voice_channel(
    stack: Stack, remote_stack: Stack, user_page: Callable[..., UserPage]
) -> None:
    alice, carol = user_page("alice"), user_page("carol", remote_stack)
    assert carol.user_id.endswith(":" + remote_stack.server_name)
    create_guild(alice.page, "Far Voice")
    invite_and_join(alice, carol, "Far Voice")
    room_id = open_voice_channel(alice)
    wait_for_sfu_bot(stack, alice, room_id)
    assert open_voice_channel(carol) == room_id

    join_voice(carol)  # nobody in the call yet: the room creator's server names the SFU
    join_voice(alice)
    for page in (alice.page, carol.page):
        expect(page.get_by_test_id("voice-participant")).to_have_count(2, timeout=LONG)
        page.get_by_role("button", name="Camera", exact=True).click()
    assert_playing(alice.page, f"Webcam of {carol.localpart}")
    assert_playing(carol.page, f"Webcam of {alice.localpart}")
    screenshot(carol.page, "voice-federated")
