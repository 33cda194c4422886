"""Guild and channel settings in the browser: guild image, banner and name, a channel's
description (editable only with the power for it), unread and mention badges, muting,
and deleting the guild (gone for the other member too)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect

from .harness import Stack, UserPage, screenshot
from .shell_steps import LONG, create_guild, invite_and_join

UNREAD = re.compile(r"(^|\s)unread(\s|$)")


def png(path: Path, size: tuple[int, int], colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", size, colour).save(path, "PNG")
    return path


def send(stack: Stack, user: UserPage, room_id: str, body: str, mention: str | None = None) -> None:
    content: dict[str, object] = {"msgtype": "m.text", "body": body}
    if mention:
        content["m.mentions"] = {"user_ids": [mention]}
    path = f"/_matrix/client/v3/rooms/{room_id}/send/m.room.message/{uuid.uuid4().hex}"
    stack.api("PUT", path, content, token=user.access_token)


def test_guild_and_channel_settings(
    stack: Stack, user_page: Callable[[str], UserPage], tmp_path: Path
) -> None:
    alice, bob = user_page("alice"), user_page("bob")
    create_guild(alice.page, "Studio")
    invite_and_join(alice, bob, "Studio")

    # Overview: a new name, an image and a banner.
    alice.page.get_by_role("button", name="Guild settings").click()
    settings = alice.page.get_by_role("dialog", name="Guild settings")
    settings.get_by_label("Guild name").fill("Studio 54")
    settings.get_by_label("Guild image").set_input_files(
        png(tmp_path / "i.png", (64, 64), (0, 160, 0))
    )
    settings.get_by_label("Guild banner").set_input_files(
        png(tmp_path / "b.png", (480, 120), (90, 0, 160))
    )
    settings.get_by_role("button", name="Save").click()
    expect(settings.get_by_role("status")).to_have_text("Saved.", timeout=LONG)
    settings.get_by_role("button", name="Close").click()
    # bob sees all three: the rail button's image, the banner, the name.
    expect(bob.page.get_by_role("heading", name="Studio 54")).to_be_visible(timeout=LONG)
    expect(bob.page.get_by_role("button", name="Studio 54").locator("img")).to_be_visible(
        timeout=LONG
    )
    banner = bob.page.get_by_role("img", name="Studio 54 banner")
    expect(banner).to_be_visible(timeout=LONG)
    assert banner.evaluate("img => img.naturalWidth") == 480
    screenshot(bob.page, "shell-guild-banner")

    # Channel description: alice edits it in #general's settings; bob sees it in the
    # channel header and may not edit it (edit_description is Admins only).
    general = alice.page.locator('[data-testid="channel-row"][data-channel-name="general"]')
    general_id = general.get_attribute("data-room-id")
    assert general_id
    alice.page.get_by_role("button", name="Text channel general").click()
    alice.page.get_by_role("button", name="Edit general").click()
    channel = alice.page.get_by_role("dialog", name="Channel settings: general")
    channel.get_by_label("Channel description").fill("Talk about anything.")
    # By default everyone may edit it; here only Admins.
    edit = channel.get_by_role("group", name="Edit description permission")
    edit.get_by_label("Everyone").uncheck()
    edit.get_by_label("Admin").check()
    channel.get_by_role("button", name="Save").click()
    expect(channel.get_by_role("status")).to_have_text("Saved.", timeout=LONG)
    channel.get_by_role("button", name="Close").click()
    bob.page.get_by_role("button", name="Text channel general").click()
    expect(bob.page.get_by_text("Talk about anything.")).to_be_visible(timeout=LONG)
    bob.page.get_by_role("button", name="Edit general").click()
    bobs = bob.page.get_by_role("dialog", name="Channel settings: general")
    expect(bobs.get_by_label("Channel description")).to_be_disabled(timeout=LONG)
    expect(bobs.get_by_role("button", name="Delete channel")).to_have_count(0)
    bobs.get_by_role("button", name="Close").click()
    expect(bob.page.get_by_role("button", name="Edit channel description")).to_have_count(0)
    # alice edits it in place, in the channel header.
    alice.page.get_by_role("button", name="Edit channel description").click()
    alice.page.get_by_label("Channel description").fill("Talk about anything, kindly.")
    alice.page.get_by_role("button", name="Save description").click()
    expect(bob.page.get_by_test_id("channel-topic")).to_have_text(
        "Talk about anything, kindly.", timeout=LONG
    )

    # Unread and mention badges: alice looks at the voice channel while bob writes.
    alice.page.get_by_role("button", name="Voice channel General").click()
    send(stack, bob, general_id, "hello all")
    expect(general).to_have_class(UNREAD, timeout=LONG)
    send(stack, bob, general_id, f"hey {alice.localpart}", mention=alice.user_id)
    expect(general.get_by_label("1 mentions")).to_be_visible(timeout=LONG)
    # The guild's icon in the rail carries the count too.
    rail = alice.page.get_by_role("navigation", name="Guilds")
    expect(rail.get_by_role("button", name="Studio 54").get_by_label("1 mentions")).to_be_visible()
    screenshot(alice.page, "shell-badges")
    # Opening it reads it (the channel view sends the receipt): the badges go.
    alice.page.get_by_role("button", name="Text channel general").click()
    expect(general.get_by_label("1 mentions")).to_have_count(0, timeout=LONG)
    expect(rail.get_by_label("1 mentions")).to_have_count(0, timeout=LONG)
    expect(general).not_to_have_class(UNREAD, timeout=LONG)

    # Muted (a room push rule without actions, kept by the server across a reload): new
    # messages give no unread mark; as in Discord, a mention still shows its badge (the
    # server's mention rules are override rules, which come before room rules). A later
    # message in another channel, marking that one unread, shows the muted one's
    # message has arrived by then.
    alice.page.get_by_role("button", name="Create channel in Text").click()
    dialog = alice.page.get_by_role("dialog", name="Create channel")
    dialog.get_by_label("Channel name").fill("random")
    dialog.get_by_role("button", name="Create channel").click()
    random = alice.page.locator('[data-testid="channel-row"][data-channel-name="random"]')
    random_id = random.get_attribute("data-room-id", timeout=LONG)
    assert random_id
    alice.page.get_by_role("button", name="Voice channel General").click()
    general.hover()
    general.get_by_role("button", name="Mute general").click()
    expect(general.get_by_role("button", name="Unmute general")).to_be_visible(timeout=LONG)
    alice.page.reload()
    alice.page.get_by_role("button", name="Studio 54").click()
    expect(general).to_have_class(re.compile(r"(^|\s)muted(\s|$)"), timeout=LONG)
    send(stack, bob, general_id, "you will not hear this")
    send(stack, bob, random_id, "but this")
    expect(random).to_have_class(UNREAD, timeout=LONG)
    expect(general).not_to_have_class(UNREAD)
    send(stack, bob, general_id, f"{alice.localpart}: look", mention=alice.user_id)
    expect(general.get_by_label("1 mentions")).to_be_visible(timeout=LONG)
    general.hover()
    general.get_by_role("button", name="Unmute general").click()
    expect(general.get_by_role("button", name="Mute general")).to_be_attached(timeout=LONG)

    # Deleting the guild: it leaves both rails.
    alice.page.get_by_role("button", name="Guild settings").click()
    settings = alice.page.get_by_role("dialog", name="Guild settings")
    alice.page.once("dialog", lambda d: d.accept())
    settings.get_by_role("button", name="Delete guild").click()
    expect(alice.page.get_by_role("button", name="Studio 54")).to_have_count(0, timeout=LONG)
    expect(bob.page.get_by_role("button", name="Studio 54")).to_have_count(0, timeout=LONG)
