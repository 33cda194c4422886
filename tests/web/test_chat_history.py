"""The channel view over time and trouble (issue 10): scrolling back loads older
messages page by page while what was on screen stays put, a message sent while offline
is kept with its text and sent by Retry, and a channel where I may not write says so and
disables the composer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from .chat_setup import Chat, chat_in_guild, composer, message, open_channel
from .harness import Stack, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytest.importorskip("playwright")
from playwright.sync_api import expect

HISTORY = 75  # more than two pages of /messages (30) and the initial sync (30)


@pytest.fixture(scope="module")
def chat(stack: Stack, browser: Browser) -> Iterator[Chat]:
    with chat_in_guild(stack, browser, "History") as c:
        yield c


def test_scrolling_back_loads_older_messages_and_keeps_the_view(chat: Chat) -> None:
    for i in range(HISTORY):
        chat.send(chat.alice, f"old message {i:03d}")
    bob = chat.bob.page
    bob.reload()
    open_channel(chat.bob, chat.guild_name)
    expect(message(bob, f"old message {HISTORY - 1:03d}")).to_be_visible()
    first = message(bob, "old message 000")
    scroller = bob.get_by_role("log")
    for _ in range(30):  # each round loads at most one page
        if first.count() == 1:
            break
        top_before = bob.locator(".tl-body").first.inner_text()
        scroller.evaluate("el => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")
        changed = "t => document.querySelector('.tl-body').innerText !== t"
        bob.wait_for_function(changed, arg=top_before, timeout=10_000)
        # The message that was at the top is still on screen: the view did not jump.
        anchor = message(bob, top_before)
        expect(anchor).to_be_in_viewport()
    expect(first).to_have_count(1)
    expect(bob.get_by_role("heading", name="Welcome to general!")).to_be_visible()
    rows = bob.locator(".tl-body").all_inner_texts()
    olds = [r for r in rows if r.startswith("old message")]
    assert olds == [f"old message {i:03d}" for i in range(HISTORY)]  # in order, no gaps
    screenshot(bob, "chat-history")
    # The view fits under the shell's channel header (nothing pushed out of the pane).
    header = bob.locator(".channel-header")
    expect(header).to_be_in_viewport()
    # Far from the present: a button brings the newest message back.
    latest = message(bob, f"old message {HISTORY - 1:03d}")
    expect(latest).not_to_be_in_viewport()
    bob.get_by_role("button", name="Jump to present").click()
    expect(latest).to_be_in_viewport()
    expect(bob.get_by_role("button", name="Jump to present")).to_have_count(0)


def test_a_failed_send_keeps_the_text_and_retry_sends_it(chat: Chat) -> None:
    alice, bob = chat.alice.page, chat.bob.page
    chat.bob.context.set_offline(True)
    try:
        composer(bob).fill("sent while offline")
        composer(bob).press("Enter")
        failed = message(bob, "sent while offline")
        expect(failed.get_by_role("alert")).to_contain_text("Not sent")
        screenshot(bob, "chat-failed-send")
    finally:
        chat.bob.context.set_offline(False)
    expect(message(alice, "sent while offline")).to_have_count(0)
    failed.get_by_role("button", name="Retry").click()
    expect(message(alice, "sent while offline")).to_have_count(1)
    expect(message(bob, "sent while offline").get_by_role("alert")).to_have_count(0)
    expect(message(bob, "sent while offline")).to_have_count(1)


def test_no_write_permission_disables_the_composer(chat: Chat) -> None:
    bob = chat.bob.page
    admins_only = {"write": ["admin"]}
    chat.put_state(chat.alice, chat.channel, "im.concord.channel_permissions", "", admins_only)
    box = bob.get_by_label("Message (read only)")
    expect(box).to_be_disabled()
    expect(box).to_have_attribute(
        "placeholder", "You do not have permission to send messages in this channel."
    )
    expect(bob.get_by_role("button", name="Attach a file")).to_be_disabled()
    # His own message may still be deleted, but not edited (that would be writing).
    own = message(bob, "sent while offline")
    own.hover()
    expect(own.get_by_role("button", name="Delete")).to_be_visible()
    expect(own.get_by_role("button", name="Edit")).to_have_count(0)
    screenshot(bob, "chat-read-only")
    chat.put_state(chat.alice, chat.channel, "im.concord.channel_permissions", "", {})
    expect(bob.get_by_label("Message", exact=True)).to_be_enabled()
