"""Register, log in and log out through the web client, with errors in plain words."""

from __future__ import annotations

import json

from playwright.sync_api import Browser, expect

from .harness import (
    PASSWORD,
    SESSION_STORAGE_KEY,
    Stack,
    new_context,
    screenshot,
    unique_localpart,
)


def test_register_log_out_and_log_in_again(stack: Stack, browser: Browser) -> None:
    context = new_context(stack, browser)
    try:
        page = context.new_page()
        page.goto("/")
        # The homeserver field defaults to the server that served the page.
        expect(page.get_by_label("Homeserver")).to_have_value(stack.base_url)
        screenshot(page, "shell-login")
        page.get_by_role("button", name="Register").click()
        name = unique_localpart("carol")
        page.get_by_label("Username").fill(name)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Confirm password").fill("something else")
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("alert")).to_have_text("The two passwords don't match.")
        page.get_by_label("Confirm password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        # Signed in: the shell with the DM home and the user panel.
        expect(page.get_by_role("heading", name="Direct Messages")).to_be_visible(timeout=20_000)
        expect(page.get_by_role("contentinfo", name="You")).to_contain_text(name)
        # The session survives a reload.
        page.reload()
        expect(page.get_by_role("heading", name="Direct Messages")).to_be_visible()

        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_label("Password")).to_be_visible()
        page.get_by_label("Username").fill(name)
        page.get_by_label("Password").fill("wrong password")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
        # Nothing typed is lost on the failed attempt.
        expect(page.get_by_label("Username")).to_have_value(name)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Direct Messages")).to_be_visible(timeout=20_000)
        # A full user id with its server also works (discovery of this server).
        page.get_by_role("button", name="Log out").click()
        page.get_by_label("Username").fill(f"@{name}:{stack.server_name}")
        page.get_by_label("Homeserver").fill(stack.base_url)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Direct Messages")).to_be_visible(timeout=20_000)
        # The session ended elsewhere (its token logged out): the client says so.
        session = json.loads(page.evaluate(f"() => localStorage.getItem('{SESSION_STORAGE_KEY}')"))
        stack.api("POST", "/_matrix/client/v3/logout", {}, token=session["accessToken"])
        expect(page.get_by_role("status")).to_have_text(
            "You were logged out. Please log in again.", timeout=40_000
        )
        expect(page.get_by_label("Password")).to_be_visible()
    finally:
        context.close()
