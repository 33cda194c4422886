"""The web client logs in to any homeserver (issue 10): served by Concord, it signs in to a
real Synapse by the homeserver typed on the login screen, lists the user's plain Matrix
rooms in the home sidebar, reads what another Synapse user wrote and sends a message that
user receives. Synapse has no im.concord WebSocket, so the client syncs by long-polling
GET /sync (client-server "Syncing"); it has no guilds either, which must stay quiet.

Synapse comes from the interop harness (tests/interop/synapse_process.py; ``make synapse``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.interop.client import MxUser
from tests.interop.processes import free_ports
from tests.interop.synapse_process import SynapseServer, synapse_python

from .harness import Stack, new_context, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Request

pytest.importorskip("playwright")
from playwright.sync_api import expect

LONG = 20_000
PASSWORD = "interop-pw"  # MxUser.register's


@pytest.fixture(scope="module")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    if synapse_python() is None:
        message = "Synapse not installed (run `make synapse`)"
        if os.environ.get("REQUIRE_SYNAPSE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    fed_port, client_port = free_ports(2)
    workdir: Path = tmp_path_factory.mktemp("synapse-web")
    server = SynapseServer(
        workdir,
        fed_port=fed_port,
        client_port=client_port,
        federation_domains=[f"localhost:{fed_port}"],
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _received(user: MxUser, room: str, text: str, timeout: float = 20.0) -> bool:
    """Whether ``text`` reaches ``user`` in ``room`` (their /messages), within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in user.texts(room, text):
            return True
        time.sleep(0.3)
    return False


def test_the_client_logs_in_to_a_synapse_and_chats_in_plain_rooms(
    stack: Stack, browser: Browser, synapse: SynapseServer
) -> None:
    alice = MxUser.register(synapse, "alice")
    bob = MxUser.register(synapse, "bob")
    lounge = alice.create_room(preset="public_chat", name="Lounge")
    alice.create_room(preset="private_chat", name="Notes")
    bob.join(lounge, via=synapse.server_name)
    bob.send_text(lounge, "hello from bob on synapse")

    context = new_context(stack, browser)  # the page comes from Concord
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        syncs: list[str] = []

        def on_request(request: Request) -> None:
            if request.url.startswith(synapse.client_url + "/_matrix/client/v3/sync"):
                syncs.append(request.url)

        page.on("request", on_request)
        page.goto("/")
        page.get_by_label("Homeserver").fill(synapse.client_url)
        page.get_by_label("Username").fill(alice.user_id.split(":")[0][1:])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()

        rooms = page.get_by_role("region", name="Rooms")
        expect(rooms.get_by_role("button", name="Room Lounge")).to_be_visible(timeout=LONG)
        expect(rooms.get_by_role("button", name="Room Notes")).to_be_visible()
        # No im.concord guilds on Synapse: the rail holds only the DM home and "Create a
        # guild", and no error is shown.
        rail = page.get_by_role("navigation", name="Guilds").get_by_role("button")
        expect(rail).to_have_count(2)
        expect(page.get_by_role("alert")).to_have_count(0)

        rooms.get_by_role("button", name="Room Lounge").click()
        body = page.get_by_test_id("message").filter(has_text="hello from bob on synapse")
        expect(body).to_be_visible(timeout=LONG)
        composer = page.locator(".tl-composer textarea")
        composer.fill("hi bob, from the Concord web client")
        composer.press("Enter")
        assert _received(bob, lounge, "hi bob, from the Concord web client")

        # Bob answers; the long-poll brings it in without a reload.
        bob.send_text(lounge, "got it")
        expect(page.get_by_test_id("message").filter(has_text="got it")).to_be_visible(timeout=LONG)
        assert syncs, "the client never long-polled Synapse's /sync"
        expect(page.get_by_role("alert")).to_have_count(0)
        assert errors == [], errors
        screenshot(page, "plain-homeserver-synapse")
    finally:
        context.close()
