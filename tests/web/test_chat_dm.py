"""The channel view in a 1:1 DM (issue 10): Alice starts a DM with Bob from the shell's
Direct Messages, Bob accepts, and they talk and react there as in a channel."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from .chat_setup import composer, message
from .harness import Stack, new_user_page, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytest.importorskip("playwright")
from playwright.sync_api import expect


def test_a_dm_works_like_a_channel(stack: Stack, browser: Browser) -> None:
    alice = new_user_page(stack, browser, "alice")
    bob = new_user_page(stack, browser, "bob")
    try:
        a, b = alice.page, bob.page
        a.get_by_role("button", name="Direct Messages").click()
        a.get_by_label("Message a user").fill(bob.user_id)
        a.get_by_role("button", name="Message", exact=True).click()
        composer(a).fill("Hi Bob, it's a DM")
        composer(a).press("Enter")
        b.get_by_role("button", name="Direct Messages").click()
        b.get_by_role("button", name="Accept DM from").click()
        expect(message(b, "it's a DM")).to_be_visible()
        expect(composer(b)).to_have_attribute("placeholder", f"Message @{alice.localpart}")
        composer(b).fill("Hello Alice")
        composer(b).press("Enter")
        expect(message(a, "Hello Alice")).to_be_visible()
        row = message(a, "Hello Alice")
        row.hover()
        row.get_by_role("button", name="Add reaction").click()
        a.get_by_role("button", name="React with 👍").first.click()
        expect(message(b, "Hello Alice").get_by_role("button", name="👍 1")).to_be_visible()
        screenshot(b, "chat-dm")
    finally:
        alice.context.close()
        bob.context.close()
