"""The channel view in a real browser, two people in one channel (issue 10): sending and
receiving, replies with their quote, edits (↑ and the menu) shown as "(edited)",
reactions with the picker and the hover list of who reacted, deletion (own; an Admin's of
others; a member cannot delete others'), the typing indicator, and @user / @role
mentions highlighted for exactly the people they name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from .chat_setup import Chat, chat_in_guild, composer, message, q, read_receipt
from .harness import Stack, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytest.importorskip("playwright")
from playwright.sync_api import expect

HIGHLIGHTED = re.compile(r"\btl-highlight\b")


@pytest.fixture(scope="module")
def chat(stack: Stack, browser: Browser) -> Iterator[Chat]:
    with chat_in_guild(stack, browser, "Chat") as c:
        yield c


def test_send_receive_reply_and_edit(chat: Chat) -> None:
    alice, bob = chat.alice.page, chat.bob.page
    box = composer(alice)
    box.fill("Hello Bob, line one")
    box.press("Shift+Enter")
    box.type("line two")
    box.press("Enter")
    expect(box).to_have_value("")
    expect(message(bob, "Hello Bob, line one")).to_contain_text("line two")
    expect(message(bob, "Hello Bob")).to_contain_text(chat.alice.localpart)
    # Bob has read it: his client sent a read receipt for it.
    hello_id = message(bob, "Hello Bob").get_attribute("data-event-id")
    assert hello_id and read_receipt(chat, chat.bob) == hello_id

    # Bob replies: the quote is shown above his composer, then on his message for both.
    row = message(bob, "Hello Bob")
    row.hover()
    row.get_by_role("button", name="Reply").click()
    expect(bob.locator(".tl-replying")).to_contain_text("Replying to")
    composer(bob).fill("Hi Alice, replying")
    composer(bob).press("Enter")
    reply = message(alice, "Hi Alice, replying")
    expect(reply.locator(".tl-quote")).to_contain_text("Hello Bob, line one")
    expect(bob.locator(".tl-replying")).to_have_count(0)

    # Alice edits her last message with ↑ in the empty composer.
    composer(alice).click()
    composer(alice).press("ArrowUp")
    edit = alice.get_by_label("Edit message")
    edit.fill("Hello Bob, edited")
    edit.press("Enter")
    edited = message(bob, "Hello Bob, edited")
    expect(edited).to_contain_text("(edited)")
    # The reply's quote follows the edit.
    quote = message(bob, "Hi Alice, replying").locator(".tl-quote")
    expect(quote).to_contain_text("Hello Bob, edited")

    # And through the menu.
    mine = message(alice, "Hello Bob, edited")
    mine.hover()
    mine.get_by_role("button", name="Edit").click()
    alice.get_by_label("Edit message").fill("Hello Bob, edited twice")
    alice.get_by_label("Edit message").press("Enter")
    expect(message(bob, "Hello Bob, edited twice")).to_contain_text("(edited)")
    screenshot(bob, "chat-reply-edit")


def test_reactions_picker_hover_list_and_toggle(chat: Chat) -> None:
    alice, bob = chat.alice.page, chat.bob.page
    chat.send(chat.alice, "React to this")
    row = message(bob, "React to this")
    row.hover()
    row.get_by_role("button", name="Add reaction").click()
    picker = bob.get_by_role("dialog", name="Pick a reaction")
    screenshot(bob, "chat-reaction-picker")
    picker.get_by_role("button", name="React with 🎉").click()
    chip = message(alice, "React to this").get_by_role("button", name="🎉 1")
    expect(chip).to_be_visible()
    chip.hover()
    expect(alice.get_by_role("tooltip")).to_have_text(f"{chat.bob.localpart} reacted with 🎉")
    screenshot(alice, "chat-reactions")
    # Alice adds hers with a click on the chip; Bob sees 2, then Bob takes his back.
    chip.click()
    bob_chip = message(bob, "React to this").get_by_role("button", name="🎉 2")
    expect(bob_chip).to_have_attribute("aria-pressed", "true")
    bob_chip.click()
    expect(message(alice, "React to this").get_by_role("button", name="🎉 1")).to_have_attribute(
        "aria-pressed", "true"
    )


def test_delete_own_admin_deletes_others_member_cannot(chat: Chat) -> None:
    alice, bob = chat.alice.page, chat.bob.page
    chat.send(chat.alice, "Alice's to keep")
    chat.send(chat.bob, "Bob's first")
    chat.send(chat.bob, "Bob's second")
    # Bob (a member) has no Delete on Alice's message.
    theirs = message(bob, "Alice's to keep")
    theirs.hover()
    expect(theirs.get_by_role("button", name="Reply")).to_be_visible()
    expect(theirs.get_by_role("button", name="Delete")).to_have_count(0)
    # Bob deletes his own, after confirming.
    own = message(bob, "Bob's first")
    own.hover()
    own.get_by_role("button", name="Delete").click()
    confirm = bob.get_by_role("alertdialog", name="Delete message")
    confirm.get_by_role("button", name="Delete").click()
    expect(message(alice, "Bob's first")).to_have_count(0)
    expect(message(bob, "Bob's first")).to_have_count(0)
    # Alice (Admin) deletes Bob's other message; cancelling first changes nothing.
    other = message(alice, "Bob's second")
    other.hover()
    other.get_by_role("button", name="Delete").click()
    alice.get_by_role("alertdialog").get_by_role("button", name="Cancel").click()
    expect(other).to_have_count(1)
    other.hover()
    other.get_by_role("button", name="Delete").click()
    alice.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(message(bob, "Bob's second")).to_have_count(0)
    expect(message(bob, "Alice's to keep")).to_have_count(1)


def test_typing_indicator(chat: Chat) -> None:
    alice, bob = chat.alice.page, chat.bob.page
    composer(bob).click()
    composer(bob).type("I am writing somethi")
    expect(alice.locator(".tl-typing")).to_have_text(f"{chat.bob.localpart} is typing…")
    screenshot(alice, "chat-typing")
    composer(bob).fill("")
    composer(bob).type("x")
    composer(bob).press("Backspace")
    expect(alice.locator(".tl-typing")).to_have_text("")


def test_user_and_role_mentions_highlight_the_right_people(chat: Chat) -> None:
    alice, bob = chat.alice.page, chat.bob.page
    # A mentionable role "Crew" held by Alice (set up through the API).
    crew = {"name": "Crew", "position": 5, "color": "#e67e22", "mentionable": True}
    chat.put_state(chat.alice, chat.space, "im.concord.role", "crew", crew)
    key = chat.alice.user_id[1:]  # member_roles state keys drop the "@"
    path = f"/_matrix/client/v3/rooms/{q(chat.space)}/state/im.concord.member_roles/{q(key)}"
    current = chat.api(chat.alice, "GET", path)
    roles = sorted({*current.get("roles", []), "crew"})
    chat.put_state(chat.alice, chat.space, "im.concord.member_roles", key, {"roles": roles})

    # Alice mentions Bob by picking him from the autocomplete.
    box = composer(alice)
    box.click()
    box.type(f"ping @{chat.bob.localpart[:3]}")
    alice.get_by_role("option", name=chat.bob.localpart).first.click()
    box.type("are you there")
    expect(box).to_have_value(f"ping @{chat.bob.localpart} are you there")
    box.press("Enter")
    to_bob = message(bob, "are you there")
    expect(to_bob).to_have_class(HIGHLIGHTED)
    expect(to_bob.locator(".tl-mention")).to_have_text(f"@{chat.bob.localpart}")
    expect(message(alice, "are you there")).not_to_have_class(HIGHLIGHTED)

    # Bob mentions the Crew role: Alice (in Crew) is highlighted, Bob's view is not.
    box = composer(bob)
    box.click()
    box.type("hey @Cr")
    option = bob.get_by_role("option", name="@Crew role")
    expect(option).to_be_visible()
    box.press("Enter")
    box.type("meeting now")
    box.press("Enter")
    to_crew = message(alice, "meeting now")
    expect(to_crew.locator(".tl-mention")).to_have_text("@Crew")
    expect(to_crew).to_have_class(HIGHLIGHTED)
    expect(message(bob, "meeting now")).not_to_have_class(HIGHLIGHTED)
    screenshot(alice, "chat-mentions")
