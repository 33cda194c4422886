"""A bridge written with mautrix (the library most Matrix bridges use) against Concord:
its AppService registers a puppet, the puppet joins and sends, timestamps are massaged,
the homeserver asks it about unknown users, and it pings the homeserver."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mautrix.appservice import AppService
from mautrix.appservice.state_store import FileASStateStore
from mautrix.types import MessageType, TextMessageEventContent, UserID

from ..support.matrix_client import SERVER, Server, q
from .conftest import AS_ID, AS_TOKEN, HS_TOKEN, registration_yaml

PUPPET = UserID(f"@_bridge_dave:{SERVER}")
LATE = UserID(f"@_bridge_erin:{SERVER}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def as_port() -> int:
    return _free_port()


@pytest.fixture
def server_config(tmp_path: Path, as_port: int) -> dict[str, Any]:
    path = tmp_path / "mautrix.yaml"
    path.write_text(registration_yaml(f"http://127.0.0.1:{as_port}"))
    return {"app_service_config_files": [str(path)]}


@pytest.fixture
async def appservice(server: Server, as_port: int, tmp_path: Path) -> AsyncIterator[AppService]:
    queried: list[str] = []

    async def query_user(user_id: UserID) -> dict[str, Any] | None:
        queried.append(user_id)
        if user_id != LATE:
            return None
        await service.intent.user(user_id).ensure_registered()
        return {"registered": True}  # mautrix answers 404 for a falsy value

    service = AppService(
        server=f"http://127.0.0.1:{server.http.port}",
        domain=SERVER,
        as_token=AS_TOKEN,
        hs_token=HS_TOKEN,
        bot_localpart="_bridge_bot",
        id=AS_ID,
        query_user=query_user,
        state_store=FileASStateStore(str(tmp_path / "mx-state.json"), binary=False),
    )
    service.queried = queried  # type: ignore[attr-defined]
    await service.start(host="127.0.0.1", port=as_port)
    try:
        yield service
    finally:
        await service.stop()


async def test_puppet_registers_joins_and_sends(server: Server, appservice: AppService) -> None:
    bot = appservice.intent
    room_id = await bot.create_room(name="Bridged chat", invitees=[PUPPET])
    puppet = bot.user(PUPPET)
    # ensure_registered (m.login.application_service) and ensure_joined run implicitly.
    await puppet.set_displayname("Dave (bridged)")
    event_id = await puppet.send_message(
        room_id, TextMessageEventContent(msgtype=MessageType.TEXT, body="hello from afar")
    )
    event = await puppet.get_event(room_id, event_id)
    assert event.sender == PUPPET
    assert event.content.body == "hello from afar"
    members = await bot.get_joined_members(room_id)
    assert set(members) == {bot.mxid, PUPPET}
    assert members[PUPPET].displayname == "Dave (bridged)"

    # Timestamp massaging, as bridges backfill remote messages.
    old = await puppet.send_message(
        room_id, TextMessageEventContent(msgtype=MessageType.TEXT, body="older"), timestamp=1234567
    )
    assert (await bot.get_event(room_id, old)).timestamp == 1234567

    # A normal user sees the puppet's message.
    alice = await server.register("alice")
    await bot.invite_user(room_id, UserID(alice.user_id))
    assert (await alice.join(room_id)).status == 200
    messages = (await alice.messages(room_id, dir="b", limit=5)).ok()["chunk"]
    assert [m["content"].get("body") for m in messages if m["type"] == "m.room.message"][:2] == [
        "older",
        "hello from afar",
    ]


async def test_homeserver_asks_mautrix_about_unknown_users(
    server: Server, appservice: AppService
) -> None:
    alice = await server.register("alice")
    found = await alice.call("GET", f"/profile/{q(LATE)}")
    assert found.status == 200
    missing = await alice.call("GET", f"/profile/{q(PUPPET)}")
    assert missing.status == 404
    assert appservice.queried == [LATE, PUPPET]  # type: ignore[attr-defined]


async def test_mautrix_ping(appservice: AppService) -> None:
    # Raises on any error answer; mautrix turns a 0 ms duration into -1.
    duration = await appservice.ping_self("mautrix-txn")
    assert duration >= -1
