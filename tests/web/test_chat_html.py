"""Rich text both ways in the channel view: a formatted_body from another client is shown
through the allowlist sanitizer (bold kept; script, handlers and javascript: links inert),
and Markdown typed in the composer is sent as org.matrix.custom.html formatted_body with
body kept as typed (spec: client-server "m.room.message msgtypes", "HTML"), mention pills
as matrix.to links."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from .chat_setup import Chat, chat_in_guild, composer, message, q
from .harness import Stack, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytest.importorskip("playwright")
from playwright.sync_api import expect

HTML = "org.matrix.custom.html"
HOSTILE = (
    "<b>bold</b> <script>window.__pwned = 'script'</script>"
    "<img src=x onerror=\"window.__pwned = 'onerror'\">"
    "<a href=\"javascript:window.__pwned = 'link'\">click me</a>"
    "<svg><a href=\"javascript:window.__pwned = 'svg'\"><text>svg text</text></a></svg>"
    '<span style="position:fixed;inset:0" onmouseover="window.__pwned = \'hover\'">styled</span>'
)


@pytest.fixture(scope="module")
def chat(stack: Stack, browser: Browser) -> Iterator[Chat]:
    with chat_in_guild(stack, browser, "Html") as c:
        yield c


def event_content(chat: Chat, event_id: str) -> Any:
    path = f"/_matrix/client/v3/rooms/{q(chat.channel)}/event/{q(event_id)}"
    return chat.api(chat.alice, "GET", path)["content"]


def test_received_html_is_shown_sanitized(chat: Chat) -> None:
    alice = chat.alice.page
    chat.send(chat.bob, "**bold** click me", format=HTML, formatted_body=HOSTILE)
    row = message(alice, "styled")
    expect(row.locator("b")).to_have_text("bold")
    expect(row).to_contain_text("click me")
    expect(row).to_contain_text("svg text")
    # Nothing of the hostile markup reached the page as markup.
    body = row.locator(".tl-rich")
    expect(body).to_have_count(1)
    assert body.locator("script, img, svg, [style], [onerror], [onmouseover]").count() == 0
    assert alice.locator('a[href^="javascript:"]').count() == 0
    expect(row.get_by_role("link", name="click me")).to_have_count(0)
    row.get_by_text("click me").click()
    row.get_by_text("styled").hover()
    assert alice.evaluate("window.__pwned") is None
    screenshot(alice, "chat-html-received")


def test_typed_markdown_is_sent_as_formatted_body(chat: Chat) -> None:
    alice, bob = chat.alice.page, chat.bob.page
    box = composer(alice)
    box.fill("**hi** there")
    box.press("Enter")
    row = message(bob, "hi there")
    expect(row.locator("strong")).to_have_text("hi")
    event_id = message(alice, "hi there").get_attribute("data-event-id")
    assert event_id and event_id.startswith("$")
    content = event_content(chat, event_id)
    assert content["body"] == "**hi** there"
    assert content["format"] == HTML
    assert content["formatted_body"] == "<strong>hi</strong> there"

    # A picked mention is a matrix.to pill; plain text sends no formatted_body.
    box.click()
    box.type(f"_yo_ @{chat.bob.localpart[:3]}")
    alice.get_by_role("option", name=chat.bob.localpart).first.click()
    box.type("<b>not markup</b>")
    box.press("Enter")
    pill = message(bob, "not markup")
    expect(pill.locator(".tl-mention")).to_have_text(f"@{chat.bob.localpart}")
    expect(pill).to_contain_text("<b>not markup</b>")
    event_id = pill.get_attribute("data-event-id")
    assert event_id
    content = event_content(chat, event_id)
    assert content["formatted_body"] == (
        f'<em>yo</em> <a href="https://matrix.to/#/{chat.bob.user_id}">{chat.bob.localpart}</a>'
        " &#60;b&#62;not markup&#60;/b&#62;"
    )
    composer(alice).fill("plain words")
    composer(alice).press("Enter")
    plain_id = message(bob, "plain words").get_attribute("data-event-id")
    assert plain_id and "formatted_body" not in event_content(chat, plain_id)
