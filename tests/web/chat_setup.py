"""Shared set-up of the channel-view browser tests (tests/web/test_chat_*.py): a guild
made by Alice through the API (she owns it and holds Admin), Bob joined to it as a plain
member, and both signed in to the web client in their own browser contexts with the
guild's text channel open."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .harness import Stack, UserPage, new_user_page

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

GUILDS = "/_matrix/client/unstable/im.concord/guilds"


def q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


@dataclass
class Chat:
    stack: Stack
    alice: UserPage
    bob: UserPage
    guild_name: str
    space: str
    channel: str

    def api(self, user: UserPage, method: str, path: str, body: Any = None) -> Any:
        return self.stack.api(method, path, body, token=user.access_token)

    def send(self, user: UserPage, body: str, **extra: Any) -> str:
        """A message sent through the API (set-up, not the behaviour under test)."""
        txn = f"t{time.monotonic_ns()}"
        path = f"/_matrix/client/v3/rooms/{q(self.channel)}/send/m.room.message/{txn}"
        reply = self.api(user, "PUT", path, {"msgtype": "m.text", "body": body, **extra})
        return str(reply["event_id"])

    def put_state(self, user: UserPage, room: str, event_type: str, key: str, content: Any) -> None:
        path = f"/_matrix/client/v3/rooms/{q(room)}/state/{q(event_type)}/{q(key)}"
        self.api(user, "PUT", path, content)


def read_receipt(chat: Chat, reader: UserPage, timeout: float = 10.0) -> str | None:
    """The event ``reader``'s m.read receipt in the channel points at, as Alice's initial
    /sync reports it (polled for up to ``timeout`` seconds until one exists)."""
    room_filter = {"room": {"rooms": [chat.channel], "timeline": {"limit": 1}}}
    path = f"/_matrix/client/v3/sync?filter={q(json.dumps(room_filter))}"
    deadline = time.monotonic() + timeout
    while True:
        body = chat.api(chat.alice, "GET", path)
        room = body.get("rooms", {}).get("join", {}).get(chat.channel, {})
        for event in room.get("ephemeral", {}).get("events", []):
            if event["type"] != "m.receipt":
                continue
            for event_id, kinds in event["content"].items():
                if reader.user_id in kinds.get("m.read", {}):
                    return str(event_id)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.2)


def open_channel(user: UserPage, guild_name: str, channel_name: str = "general") -> None:
    """Navigate the shell like a person: the guild in the rail, then the text channel."""
    page = user.page
    page.get_by_role("navigation", name="Guilds").get_by_role("button", name=guild_name).click()
    page.get_by_role("button", name=f"Text channel {channel_name}").click()
    composer(page).wait_for(state="visible")


def composer(page: Page) -> Locator:
    return page.locator(".tl-composer textarea")


def message(page: Page, text: str) -> Locator:
    """The message row whose body contains ``text``."""
    return page.get_by_test_id("message").filter(has=page.locator(".tl-body", has_text=text))


@contextmanager
def chat_in_guild(stack: Stack, browser: Browser, label: str) -> Iterator[Chat]:
    """Alice's new guild with Bob in its text channel, both pages on that channel."""
    alice = new_user_page(stack, browser, "alice")
    bob = new_user_page(stack, browser, "bob")
    try:
        guild_name = f"{label} {alice.localpart[-6:]}"
        guild = stack.api("POST", GUILDS, {"name": guild_name, "public": True}, alice.access_token)
        space = guild["room_id"]
        (general,) = [c["room_id"] for c in guild["channels"] if c["kind"] == "text"]
        for room in (space, general):
            stack.api("POST", f"/_matrix/client/v3/join/{q(room)}", {}, bob.access_token)
        chat = Chat(stack, alice, bob, guild_name, space, general)
        for user in (alice, bob):
            open_channel(user, guild_name)
        yield chat
    finally:
        for user in (alice, bob):
            user.context.close()
