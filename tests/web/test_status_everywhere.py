"""Status shown everywhere a user appears (issue 10): the same dot (Online green, Away
orange, Busy red, Offline grey) on a message author's avatar, in the member list, on the
profile card and in the DM list, following the status the user picks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from .chat_setup import chat_in_guild, message
from .harness import Stack, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator

pytest.importorskip("playwright")
from playwright.sync_api import expect

LONG = 20_000
# theme.css --online, --away, --busy, --offline
COLOURS = {
    "Online": "rgb(35, 165, 90)",
    "Away": "rgb(240, 178, 50)",
    "Busy": "rgb(242, 63, 67)",
    "Offline": "rgb(128, 132, 142)",
}


def assert_dot(where: Locator, status: str) -> None:
    dot = where.get_by_role("img", name=status, exact=True)
    expect(dot).to_be_visible(timeout=LONG)
    assert dot.evaluate("e => getComputedStyle(e).backgroundColor") == COLOURS[status]


def test_the_status_dot_follows_a_user_everywhere(stack: Stack, browser: Browser) -> None:
    with chat_in_guild(stack, browser, "Dots") as chat:
        a, b = chat.alice.page, chat.bob.page
        chat.send(chat.bob, "bob was here")
        author = message(a, "bob was here").locator(".tl-gutter")
        member = a.locator(f'[data-testid="member"][data-user-id="{chat.bob.user_id}"]')
        assert_dot(author, "Online")
        assert_dot(member, "Online")

        for status in ("Busy", "Away", "Offline", "Online"):
            b.get_by_label("Status").select_option(label=status)
            assert_dot(author, status)
            assert_dot(member, status)
        screenshot(a, "status-timeline-and-members")

        b.get_by_label("Status").select_option(label="Busy")
        assert_dot(member, "Busy")
        member.click()
        card = a.get_by_role("dialog", name="Profile of")
        assert_dot(card, "Busy")
        card.get_by_role("button", name="Message").click()
        dms = a.get_by_role("list", name="Direct message list")
        row = dms.get_by_role("listitem").filter(has_text=chat.bob.localpart)
        assert_dot(row, "Busy")
        b.get_by_label("Status").select_option(label="Away")
        assert_dot(row, "Away")
        screenshot(a, "status-dm-list")
