"""Two people in two browsers share a guild: create it, invite and join, collapse a
category (remembered after a reload), reorder by drag-and-drop (seen by the other),
create channels and categories, rename and delete them."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from playwright.sync_api import Browser, expect

from .harness import Stack, UserPage, new_context, screenshot
from .shell_steps import LONG, categories, channels, create_guild, invite_and_join


def test_guild_layout_shared_by_two_users(
    stack: Stack, browser: Browser, user_page: Callable[[str], UserPage]
) -> None:
    alice, bob = user_page("alice"), user_page("bob")
    create_guild(alice.page, "Rocket Club")
    # The new guild's defaults: categories Text and Voice, #general and a voice General.
    expect(alice.page.get_by_role("button", name="Text channel general")).to_be_visible()
    expect(alice.page.get_by_role("button", name="Voice channel General")).to_be_visible()
    assert categories(alice.page) == ["Text", "Voice"]
    invite_and_join(alice, bob, "Rocket Club")
    # The steward's channel invites are accepted for bob: he sees the channels.
    expect(bob.page.get_by_role("button", name="Text channel general")).to_be_visible(timeout=LONG)
    screenshot(alice.page, "shell-guild")

    # Collapse "Voice": its channels hide; remembered across a reload (account data).
    alice.page.get_by_role("button", name="Category Voice").click()
    expect(alice.page.get_by_role("button", name="Voice channel General")).to_be_hidden()
    expect(alice.page.get_by_role("button", name="Category Voice")).to_have_attribute(
        "aria-expanded", "false"
    )
    alice.page.reload()
    alice.page.get_by_role("button", name="Rocket Club").click()
    expect(alice.page.get_by_role("button", name="Text channel general")).to_be_visible(
        timeout=LONG
    )
    expect(alice.page.get_by_role("button", name="Category Voice")).to_have_attribute(
        "aria-expanded", "false"
    )
    expect(alice.page.get_by_role("button", name="Voice channel General")).to_be_hidden()
    # It is alice's UI state, not bob's...
    expect(bob.page.get_by_role("button", name="Voice channel General")).to_be_visible()
    # ... and it follows her to another session (a second browser, logged in by hand).
    other = new_context(stack, browser)
    try:
        page = other.new_page()
        page.goto("/")
        page.get_by_label("Username").fill(alice.localpart)
        page.get_by_label("Password").fill(alice.password)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("button", name="Rocket Club").click(timeout=LONG)
        expect(page.get_by_role("button", name="Category Voice")).to_have_attribute(
            "aria-expanded", "false", timeout=LONG
        )
        expect(page.get_by_role("button", name="Voice channel General")).to_be_hidden()
    finally:
        other.close()
    alice.page.get_by_role("button", name="Category Voice").click()
    expect(alice.page.get_by_role("button", name="Voice channel General")).to_be_visible()

    # Create a text channel in Text, then drag categories and channels around.
    alice.page.get_by_role("button", name="Create channel in Text").click()
    dialog = alice.page.get_by_role("dialog", name="Create channel")
    dialog.get_by_label("Channel name").fill("memes")
    dialog.get_by_role("button", name="Create channel").click()
    expect(alice.page.get_by_role("button", name="Text channel memes")).to_be_visible(timeout=LONG)
    expect(bob.page.get_by_role("button", name="Text channel memes")).to_be_visible(timeout=LONG)
    assert channels(alice.page) == ["general", "memes", "General"]

    voice_head = alice.page.get_by_test_id("category").filter(has_text="VOICE").locator("header")
    text_section = alice.page.get_by_test_id("category").filter(has_text="TEXT")
    started = time.monotonic()
    voice_head.drag_to(text_section.locator("header"))
    expect(bob.page.get_by_test_id("category").first).to_have_attribute(
        "data-category-name", "Voice", timeout=LONG
    )
    print(f"category drag seen by the other user after {time.monotonic() - started:.2f} s")
    assert categories(bob.page) == ["Voice", "Text"]
    # memes above general, within Text.
    memes = alice.page.locator('[data-channel-name="memes"]')
    general = alice.page.locator('[data-channel-name="general"]')
    memes.drag_to(general)
    expect(bob.page.get_by_test_id("channel-row").nth(1)).to_have_attribute(
        "data-channel-name", "memes", timeout=LONG
    )
    assert channels(bob.page) == ["General", "memes", "general"]
    screenshot(bob.page, "shell-reordered")

    # A new category, a voice channel in it, and a rename; bob sees all of it.
    alice.page.get_by_role("button", name="+ Create category").click()
    alice.page.get_by_label("Category name").fill("Games")
    alice.page.get_by_role("button", name="Create category").click()
    alice.page.get_by_role("button", name="Create channel in Games").click(timeout=LONG)
    dialog = alice.page.get_by_role("dialog", name="Create channel")
    dialog.get_by_role("radio", name="Voice").check()
    dialog.get_by_label("Channel name").fill("Lobby")
    dialog.get_by_role("button", name="Create channel").click()
    expect(bob.page.get_by_role("button", name="Voice channel Lobby")).to_be_visible(timeout=LONG)
    assert categories(bob.page) == ["Voice", "Text", "Games"]
    alice.page.locator('[data-channel-name="memes"]').hover()
    alice.page.get_by_role("button", name="Edit memes").click()
    # (the dialog's title follows the channel's name, so find it by its prefix)
    settings = alice.page.get_by_role("dialog", name=re.compile(r"^Channel settings: "))
    settings.get_by_label("Channel name").fill("dank-memes")
    settings.get_by_role("button", name="Save").click()
    expect(settings.get_by_role("status")).to_have_text("Saved.", timeout=LONG)
    settings.get_by_role("button", name="Close").click()
    expect(bob.page.get_by_role("button", name="Text channel dank-memes")).to_be_visible(
        timeout=LONG
    )
    # A channel dragged onto a channel of another category moves there, above it.
    alice.page.locator('[data-channel-name="general"]').drag_to(
        alice.page.locator('[data-channel-name="Lobby"]')
    )
    games = bob.page.get_by_test_id("category").filter(has_text="GAMES")
    expect(games.get_by_test_id("channel-row")).to_have_count(2, timeout=LONG)
    assert channels(bob.page) == ["General", "dank-memes", "general", "Lobby"]
    # Rename a category, then delete it: its channels stay, above the categories.
    alice.page.get_by_role("button", name="Games category settings").click()
    dialog = alice.page.get_by_role("dialog", name="Category settings: Games")
    dialog.get_by_label("Category name").fill("Play")
    dialog.get_by_role("button", name="Save").click()
    expect(bob.page.get_by_role("button", name="Category Play")).to_be_visible(timeout=LONG)
    alice.page.get_by_role("button", name="Play category settings").click()
    alice.page.get_by_role("button", name="Delete category").click()
    expect(bob.page.get_by_role("button", name="Category Play")).to_have_count(0, timeout=LONG)
    assert categories(bob.page) == ["Voice", "Text"]
    expect(bob.page.get_by_test_id("channel-row").first).to_have_attribute(
        "data-channel-name", "general", timeout=LONG
    )
    assert sorted(channels(bob.page)[:2]) == ["Lobby", "general"]
