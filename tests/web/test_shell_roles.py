"""Roles and channel permissions through the UI: the owner makes a Mods role, restricts
a channel's read to Mods, and the other user sees that channel only once given Mods."""

from __future__ import annotations

import time
from collections.abc import Callable

from playwright.sync_api import expect

from .harness import Stack, UserPage, screenshot
from .shell_steps import LONG, create_guild, invite_and_join


def test_mods_only_channel(stack: Stack, user_page: Callable[[str], UserPage]) -> None:
    alice, bob = user_page("alice"), user_page("bob")
    create_guild(alice.page, "Mod Squad")
    invite_and_join(alice, bob, "Mod Squad")

    # Guild settings → Roles → a new role named Mods, orange.
    alice.page.get_by_role("button", name="Guild settings").click()
    settings = alice.page.get_by_role("dialog", name="Guild settings")
    settings.get_by_role("tab", name="Roles").click()
    settings.get_by_role("button", name="Create role").click()
    form = settings.get_by_role("form", name="Role new role")
    form.get_by_label("Role name").fill("Mods")
    form.get_by_label("Role colour").fill("#e67e22")
    form.get_by_label("Kick members").check()
    form.get_by_role("button", name="Save role").click()
    expect(settings.get_by_role("list", name="Roles")).to_contain_text("Mods", timeout=LONG)
    screenshot(alice.page, "shell-roles")
    # A second role lands below Mods (new roles start at the bottom), then is deleted.
    settings.get_by_role("button", name="Create role").click()
    roles = settings.get_by_role("list", name="Roles")
    expect(roles.get_by_role("button")).to_have_text(["Admin", "Mods", "new role"], timeout=LONG)
    # Dragged above Mods, it takes a position between Admin's and Mods'.
    roles.locator("[data-role-id]").nth(2).drag_to(roles.locator("[data-role-id]").nth(1))
    expect(roles.get_by_role("button")).to_have_text(["Admin", "new role", "Mods"], timeout=LONG)
    settings.get_by_role("form", name="Role new role").get_by_role(
        "button", name="Delete role"
    ).click()
    expect(roles.get_by_role("button")).to_have_text(["Admin", "Mods"], timeout=LONG)
    settings.get_by_role("button", name="Close").click()

    # A channel only Mods may read.
    alice.page.get_by_role("button", name="Create channel in Text").click()
    dialog = alice.page.get_by_role("dialog", name="Create channel")
    dialog.get_by_label("Channel name").fill("mod-chat")
    dialog.get_by_role("button", name="Create channel").click()
    expect(alice.page.get_by_role("button", name="Text channel mod-chat")).to_be_visible(
        timeout=LONG
    )
    alice.page.get_by_role("button", name="Edit mod-chat").click()
    channel = alice.page.get_by_role("dialog", name="Channel settings: mod-chat")
    read = channel.get_by_role("group", name="Read permission")
    read.get_by_label("Everyone").uncheck()
    read.get_by_label("Mods").check()
    channel.get_by_role("button", name="Save").click()
    expect(channel.get_by_role("status")).to_have_text("Saved.", timeout=LONG)
    screenshot(alice.page, "shell-channel-permissions")
    channel.get_by_role("button", name="Close").click()

    # bob (no role) does not have it; #general he has.
    expect(bob.page.get_by_role("button", name="Text channel general")).to_be_visible(timeout=LONG)
    expect(bob.page.get_by_role("button", name="Text channel mod-chat")).to_be_hidden(timeout=LONG)

    # alice gives bob Mods from his profile card in the member list.
    alice.page.locator(f'[data-testid="member"][data-user-id="{bob.user_id}"]').click()
    card = alice.page.get_by_role("dialog", name="Profile of")
    card.get_by_role("button", name="Add role").click()
    started = time.monotonic()
    card.get_by_role("list", name="Roles to add").get_by_role("button", name="Mods").click()
    expect(card.get_by_role("list", name="Roles")).to_contain_text("Mods", timeout=LONG)
    alice.page.keyboard.press("Escape")

    # Now bob has it, and the member list shows him under Mods.
    expect(bob.page.get_by_role("button", name="Text channel mod-chat")).to_be_visible(timeout=LONG)
    print(f"Mods-only channel shown to the new Mod after {time.monotonic() - started:.2f} s")
    expect(
        alice.page.get_by_role("region", name="Mods members").locator(
            f'[data-user-id="{bob.user_id}"]'
        )
    ).to_be_visible(timeout=LONG)
    screenshot(bob.page, "shell-member-with-mods")
