"""People in the shell: status dots seen by the other user, a profile with an animated
GIF avatar and a description, and a 1:1 DM opened from a profile card."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect

from .harness import Stack, UserPage, screenshot
from .shell_steps import LONG, create_guild, invite_and_join


def animated_gif(path: Path) -> Path:
    """Two frames, red then blue: a real animated GIF."""
    frames = [Image.new("RGB", (32, 32), colour) for colour in ((220, 40, 40), (40, 40, 220))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    path.write_bytes(out.getvalue())
    return path


def test_status_profile_and_dm(
    stack: Stack, user_page: Callable[[str], UserPage], tmp_path: Path
) -> None:
    alice, bob = user_page("alice"), user_page("bob")
    create_guild(alice.page, "Hangout")
    invite_and_join(alice, bob, "Hangout")
    bob_in_alices_list = alice.page.locator(f'[data-testid="member"][data-user-id="{bob.user_id}"]')
    expect(bob_in_alices_list).to_have_attribute("data-status", "online", timeout=LONG)

    # bob picks Busy, then Away: alice sees the red, then the orange dot.
    for label, status in (("Busy", "busy"), ("Away", "away")):
        bob.page.get_by_label("Status").select_option(label=label)
        expect(bob_in_alices_list).to_have_attribute("data-status", status, timeout=LONG)
        expect(bob_in_alices_list.get_by_role("img", name=label)).to_be_visible()
    dot = bob_in_alices_list.locator(".status-dot")
    assert dot.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(240, 178, 50)"

    # alice sets a GIF avatar and a description in her profile settings.
    alice.page.get_by_role("button", name="Profile settings").click()
    dialog = alice.page.get_by_role("dialog", name="Profile settings")
    dialog.get_by_label("Avatar").set_input_files(animated_gif(tmp_path / "wave.gif"))
    dialog.get_by_label("About me").fill("I fly rockets.")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("status")).to_have_text("Saved.", timeout=LONG)
    dialog.get_by_role("button", name="Close").click()

    # bob sees the GIF (the original, so it animates) and the description on her card.
    alice_in_bobs_list = bob.page.locator(f'[data-testid="member"][data-user-id="{alice.user_id}"]')
    avatar = alice_in_bobs_list.locator("img[src*='/media/download/']")
    expect(avatar).to_be_visible(timeout=LONG)
    assert avatar.evaluate("img => img.complete && img.naturalWidth") == 32
    alice_in_bobs_list.click()
    card = bob.page.get_by_role("dialog", name="Profile of")
    expect(card).to_contain_text("I fly rockets.", timeout=LONG)
    expect(card.get_by_test_id("profile-status")).to_have_text("Online")
    screenshot(bob.page, "shell-profile-card")

    # "Message" opens the pair's DM; alice accepts it from her DM home.
    card.get_by_role("button", name="Message").click()
    expect(bob.page.get_by_role("heading", name="Direct Messages")).to_be_visible(timeout=LONG)
    expect(bob.page.get_by_role("list", name="Direct message list")).to_contain_text(
        alice.localpart, timeout=LONG
    )
    # alice's home button counts the pending DM; she accepts it from her DM home.
    home = alice.page.get_by_role("button", name="Direct Messages")
    expect(home.get_by_label("1 unread direct messages")).to_be_visible(timeout=LONG)
    home.click()
    alice.page.get_by_role("button", name=f"Accept DM from {bob.user_id}").click(timeout=LONG)
    dms = alice.page.get_by_role("list", name="Direct message list")
    expect(dms).to_contain_text(bob.localpart, timeout=LONG)
    screenshot(alice.page, "shell-dms")
    # While she is in the guild, bob writes: the home button counts the conversation;
    # opening it reads it.
    alice.page.get_by_role("button", name="Hangout").click()
    dm_id = stack.api(
        "POST",
        "/_matrix/client/unstable/im.concord/dm",
        {"user_id": alice.user_id},
        bob.access_token,
    )["room_id"]
    path = f"/_matrix/client/v3/rooms/{dm_id}/send/m.room.message/{uuid.uuid4().hex}"
    stack.api("PUT", path, {"msgtype": "m.text", "body": "psst"}, bob.access_token)
    expect(home.get_by_label("1 unread direct messages")).to_be_visible(timeout=LONG)
    home.click()
    dms.get_by_role("button").filter(has_text=bob.localpart).click()
    expect(alice.page.get_by_text("psst")).to_be_visible(timeout=LONG)
    expect(home.get_by_label("1 unread direct messages")).to_have_count(0, timeout=LONG)


def test_leaving_a_guild(stack: Stack, user_page: Callable[[str], UserPage]) -> None:
    alice, bob = user_page("alice"), user_page("bob")
    create_guild(alice.page, "Passing Through")
    invite_and_join(alice, bob, "Passing Through")
    bob_in_list = alice.page.locator(f'[data-testid="member"][data-user-id="{bob.user_id}"]')
    expect(bob_in_list).to_be_visible(timeout=LONG)
    # The owner has no "Leave guild"; bob does.
    expect(alice.page.get_by_role("button", name="Leave guild")).to_have_count(0)
    bob.page.once("dialog", lambda d: d.accept())
    bob.page.get_by_role("button", name="Leave guild").click()
    expect(bob.page.get_by_role("button", name="Passing Through")).to_have_count(0, timeout=LONG)
    expect(bob.page.get_by_role("heading", name="Direct Messages")).to_be_visible()
    expect(bob_in_list).to_have_count(0, timeout=LONG)
    # A reload keeps alice where she was (the guild), not the DM home.
    alice.page.reload()
    expect(alice.page.get_by_role("heading", name="Passing Through")).to_be_visible(timeout=LONG)


def test_kicking_a_member(stack: Stack, user_page: Callable[[str], UserPage]) -> None:
    alice, bob = user_page("alice"), user_page("bob")
    create_guild(alice.page, "Strict Club")
    invite_and_join(alice, bob, "Strict Club")
    # bob (no role) may not kick alice: his card of her has no such button.
    bob.page.locator(f'[data-testid="member"][data-user-id="{alice.user_id}"]').click(timeout=LONG)
    card = bob.page.get_by_role("dialog", name="Profile of")
    expect(card.get_by_role("button", name="Message")).to_be_visible()
    expect(card.get_by_role("button", name="Kick from guild")).to_have_count(0)
    bob.page.keyboard.press("Escape")
    expect(card).to_have_count(0)
    # alice (owner) kicks bob: the guild leaves his rail, he leaves her member list.
    bob_in_list = alice.page.locator(f'[data-testid="member"][data-user-id="{bob.user_id}"]')
    bob_in_list.click(timeout=LONG)
    alice.page.once("dialog", lambda d: d.accept())
    alice.page.get_by_role("dialog", name="Profile of").get_by_role(
        "button", name="Kick from guild"
    ).click()
    expect(bob_in_list).to_have_count(0, timeout=LONG)
    expect(bob.page.get_by_role("button", name="Strict Club")).to_have_count(0, timeout=LONG)
