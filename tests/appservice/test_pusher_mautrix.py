"""A bot written with mautrix-python (what mautrix bridges are built on) receives the
pushed transactions through its ``AppService`` and answers through the client API with
its as_token: the pusher works with a real application-service framework unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..support.matrix_client import SERVER, User
from ..support.server_fixtures import MakeServer
from ..support.server_fixtures import make_server as make_server
from ..support.server_fixtures import server_config as server_config
from ..support.waiting import free_port, until
from .fake_as import AS_TOKEN, HS_TOKEN, registration_yaml, write_registration

mautrix_appservice = pytest.importorskip("mautrix.appservice")
mautrix_state = pytest.importorskip("mautrix.appservice.state_store")
mautrix_types = pytest.importorskip("mautrix.types")

# mautrix passes aiohttp the deprecated ``loop`` argument.
pytestmark = pytest.mark.filterwarnings("ignore:loop argument is deprecated:DeprecationWarning")

BOT = f"@_bridge_bot:{SERVER}"


async def test_a_mautrix_bot_receives_messages_and_answers(
    make_server: MakeServer, tmp_path: Path
) -> None:
    EventType = mautrix_types.EventType
    Membership = mautrix_types.Membership
    port = free_port()
    text = registration_yaml(f"http://127.0.0.1:{port}", extra="receive_ephemeral: true\n")
    server = await make_server(
        app_service_config_files=[str(write_registration(tmp_path, "bot", text))]
    )
    appservice = mautrix_appservice.AppService(
        server=f"http://127.0.0.1:{server.http.port}",
        domain=SERVER,
        as_token=f"{AS_TOKEN}_bridge",
        hs_token=f"{HS_TOKEN}_bridge",
        bot_localpart="_bridge_bot",
        id="bridge",
        state_store=mautrix_state.FileASStateStore(
            path=str(tmp_path / "mx-state.json"), binary=False
        ),
        ephemeral_events=True,
    )
    seen: list[Any] = []

    @appservice.matrix_event_handler
    async def handle(evt: Any) -> None:
        seen.append(evt)
        if evt.type == EventType.ROOM_MEMBER and evt.state_key == BOT:
            if evt.content.membership == Membership.INVITE:
                await appservice.intent.join_room(evt.room_id)
        elif evt.type == EventType.ROOM_MESSAGE and evt.content.body == "!ping":
            await appservice.intent.send_text(evt.room_id, "pong")

    await appservice.start(host="127.0.0.1", port=port)
    try:
        alice: User = await server.register("alice")
        room = await alice.create_room()
        (await alice.invite(room, BOT)).ok()

        async def bot_joined() -> bool:
            reply = await alice.call("GET", f"/rooms/{room}/joined_members")
            return BOT in reply.ok()["joined"]

        await until(bot_joined, "the bot to join")
        await alice.send(room, "!ping")

        async def answered() -> bool:
            chunk = (await alice.messages(room, dir="b", limit="10")).ok()["chunk"]
            return any(e["sender"] == BOT and e["content"].get("body") == "pong" for e in chunk)

        await until(answered, "the bot's answer")
        typing = {"typing": True, "timeout": 30000}
        (await alice.call("PUT", f"/rooms/{room}/typing/{alice.user_id}", typing)).ok()

        async def saw_typing() -> bool:
            return any(
                e.type == EventType.TYPING and alice.user_id in e.content.user_ids for e in seen
            )

        await until(saw_typing, "the typing notification")
        messages = [e for e in seen if e.type == EventType.ROOM_MESSAGE]
        assert [e.content.body for e in messages] == ["!ping", "pong"]  # each once
        assert all(e.room_id == room for e in messages)
    finally:
        await appservice.stop()
