"""The shell with a user of another homeserver: Carol, whose account lives on a second
server, signs in from the first server's page by naming her homeserver, accepts Alice's
invite to a guild over federation and sees its channels and members."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Browser, expect

from .harness import PASSWORD, Stack, UserPage, new_context, screenshot, unique_localpart
from .shell_steps import LONG, create_guild

FEDERATION = 45_000


def test_a_user_of_another_server_joins_a_guild(
    stack: Stack, remote_stack: Stack, browser: Browser, user_page: Callable[..., UserPage]
) -> None:
    alice = user_page("alice")
    carol_name = unique_localpart("carol")
    carol_id = remote_stack.register(carol_name)["user_id"]
    context = new_context(stack, browser)  # the page comes from alice's server
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_label("Homeserver").fill(remote_stack.base_url)
        page.get_by_label("Username").fill(carol_name)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("contentinfo", name="You")).to_contain_text(
            carol_name, timeout=LONG
        )

        create_guild(alice.page, "Far Away")
        alice.page.get_by_role("button", name="Invite people").click()
        dialog = alice.page.get_by_role("dialog", name="Invite people to Far Away")
        dialog.get_by_label("User id").fill(carol_id)
        dialog.get_by_role("button", name="Invite").click()
        expect(dialog.get_by_role("status")).to_have_text(f"Invited {carol_id}.", timeout=LONG)
        dialog.get_by_role("button", name="Close").click()

        page.get_by_role("button", name="Join Far Away").click(timeout=FEDERATION)
        expect(page.get_by_role("heading", name="Far Away")).to_be_visible(timeout=FEDERATION)
        # The steward's channel invites cross the federation too; the shell accepts them.
        expect(page.get_by_role("button", name="Text channel general")).to_be_visible(
            timeout=FEDERATION
        )
        expect(
            page.locator(f'[data-testid="member"][data-user-id="{alice.user_id}"]')
        ).to_be_visible(timeout=FEDERATION)
        expect(
            alice.page.locator(f'[data-testid="member"][data-user-id="{carol_id}"]')
        ).to_be_visible(timeout=FEDERATION)
        screenshot(page, "shell-federated")
    finally:
        context.close()
