"""Steps the shell's browser tests share (tests/web/test_shell_*.py): making a guild,
bringing a second user in, and reading the sidebar's order."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .harness import UserPage

LONG = 20_000


def create_guild(page: Page, name: str) -> None:
    page.get_by_role("button", name="Create a guild").click()
    dialog = page.get_by_role("dialog", name="Create a guild")
    dialog.get_by_label("Guild name").fill(name)
    dialog.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=LONG)


def categories(page: Page) -> list[str]:
    return page.get_by_test_id("category").evaluate_all(
        "els => els.map(e => e.dataset.categoryName)"
    )


def channels(page: Page) -> list[str]:
    return page.get_by_test_id("channel-row").evaluate_all(
        "els => els.map(e => e.dataset.channelName)"
    )


def invite_and_join(owner: UserPage, member: UserPage, guild: str) -> None:
    owner.page.get_by_role("button", name="Invite people").click()
    dialog = owner.page.get_by_role("dialog", name=f"Invite people to {guild}")
    dialog.get_by_label("User id").fill(member.user_id)
    dialog.get_by_role("button", name="Invite").click()
    expect(dialog.get_by_role("status")).to_have_text(f"Invited {member.user_id}.")
    dialog.get_by_role("button", name="Close").click()
    member.page.get_by_role("button", name=f"Join {guild}").click(timeout=LONG)
    expect(member.page.get_by_role("heading", name=guild)).to_be_visible(timeout=LONG)
