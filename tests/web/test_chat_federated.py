"""The channel view with a user of another homeserver (issue 10: "a Concord user on one
server and a user from another server both use it"): Carol, on a second server, joins
Alice's guild channel over federation; they talk, reply, react and mention each other,
and Carol sees Alice's image, fetched by her own server over federation."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import expect

from .chat_setup import GUILDS, composer, message, open_channel, q
from .harness import Stack, UserPage, screenshot
from .test_chat_media import image_decoded, png

HIGHLIGHTED = re.compile(r"\btl-highlight\b")


def test_chat_with_a_user_of_another_server(
    stack: Stack, remote_stack: Stack, user_page: Callable[..., UserPage], tmp_path: Path
) -> None:
    alice, carol = user_page("alice"), user_page("carol", remote_stack)
    assert carol.user_id.endswith(":" + remote_stack.server_name) != alice.user_id.endswith(
        ":" + remote_stack.server_name
    )
    name = f"Far chat {alice.localpart[-6:]}"
    guild = stack.api("POST", GUILDS, {"name": name, "public": True}, alice.access_token)
    (general,) = [c["room_id"] for c in guild["channels"] if c["kind"] == "text"]
    for room in (guild["room_id"], general):
        path = f"/_matrix/client/v3/join/{q(room)}?server_name={q(stack.server_name)}"
        remote_stack.api("POST", path, {}, carol.access_token)
    open_channel(alice, name)
    open_channel(carol, name)
    a, c = alice.page, carol.page

    composer(c).fill("Hello from the other server")
    composer(c).press("Enter")
    row = message(a, "Hello from the other server")
    expect(row).to_contain_text(carol.localpart)
    row.hover()
    row.get_by_role("button", name="Reply").click()
    composer(a).type(f"Welcome @{carol.localpart[:4]}")
    a.get_by_role("option", name=carol.localpart).click()
    composer(a).press("Enter")
    welcome = message(c, "Welcome")
    expect(welcome.locator(".tl-quote")).to_contain_text("Hello from the other server")
    expect(welcome).to_have_class(HIGHLIGHTED)

    welcome.hover()
    welcome.get_by_role("button", name="Add reaction").click()
    c.get_by_role("button", name="React with 👍").first.click()
    chip = message(a, "Welcome").get_by_role("button", name="👍 1")
    chip.hover()
    expect(a.get_by_role("tooltip")).to_have_text(f"{carol.localpart} reacted with 👍")

    a.get_by_label("Upload a file").set_input_files(str(png(tmp_path / "far.png")))
    image_decoded(c, "far.png")
    screenshot(c, "chat-federated")
