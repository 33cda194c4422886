"""Issue 7's bridge, written with mautrix-python: a user's message reaches the bridge,
which answers as a puppet it registered; the bridge creates a room with an alias in its
namespace; the homeserver asks it about an unknown namespaced user; and while it is
stopped, the events it misses wait for it and arrive exactly once when it is back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from ..support.matrix_client import SERVER, User, q
from ..support.server_fixtures import MakeServer
from ..support.server_fixtures import make_server as make_server
from ..support.server_fixtures import server_config as server_config
from ..support.waiting import free_port, until
from .fake_as import AS_TOKEN, HS_TOKEN, registration_yaml, write_registration

mautrix_appservice = pytest.importorskip("mautrix.appservice")
mautrix_state = pytest.importorskip("mautrix.appservice.state_store")
mautrix_types = pytest.importorskip("mautrix.types")

pytestmark = pytest.mark.filterwarnings("ignore:loop argument is deprecated:DeprecationWarning")

BOT = f"@_bridge_bot:{SERVER}"
PUPPET = f"@_bridge_carol:{SERVER}"


class Bridge:
    """The bridge: mautrix's AppService, its puppets, and what it received."""

    def __init__(self, homeserver_url: str, port: int, tmp_path: Path) -> None:
        self.port = port
        self.seen: list[Any] = []
        self.queried: list[str] = []
        self.appservice = self._appservice(homeserver_url, tmp_path)

    def _appservice(self, homeserver_url: str, tmp_path: Path) -> Any:
        appservice = mautrix_appservice.AppService(
            server=homeserver_url,
            domain=SERVER,
            as_token=f"{AS_TOKEN}_bridge",
            hs_token=f"{HS_TOKEN}_bridge",
            bot_localpart="_bridge_bot",
            id="bridge",
            state_store=mautrix_state.FileASStateStore(
                path=str(tmp_path / "mx-state.json"), binary=False
            ),
            query_user=self._query_user,
        )
        types = mautrix_types

        @appservice.matrix_event_handler
        async def handle(evt: Any) -> None:
            self.seen.append(evt)
            if evt.type == types.EventType.ROOM_MEMBER and evt.state_key in (BOT, PUPPET):
                if evt.content.membership == types.Membership.INVITE:
                    await appservice.intent.user(evt.state_key).join_room(evt.room_id)
            elif evt.type == types.EventType.ROOM_MESSAGE and evt.sender != PUPPET:
                body = evt.content.body
                if body.startswith("to carol:"):
                    puppet = appservice.intent.user(PUPPET)
                    await puppet.send_text(evt.room_id, "carol says: " + body[9:].strip())

        return appservice

    async def _query_user(self, user_id: str) -> Any:
        """The homeserver asks about a user in our namespace: the puppet exists once we
        registered it (spec: application-service "GET /users/{userId}")."""
        self.queried.append(user_id)
        if user_id != PUPPET:
            return None
        await self.appservice.intent.user(user_id).ensure_registered()
        return {}

    async def start(self) -> None:
        await self.appservice.start(host="127.0.0.1", port=self.port)

    async def stop(self) -> None:
        await self.appservice.stop()

    def messages(self, room_id: str) -> list[str]:
        return [
            e.content.body
            for e in self.seen
            if e.type == mautrix_types.EventType.ROOM_MESSAGE and e.room_id == room_id
        ]


async def test_a_mautrix_bridge_end_to_end(make_server: MakeServer, tmp_path: Path) -> None:
    port = free_port()
    text = registration_yaml(f"http://127.0.0.1:{port}", aliases="#_bridge_.*")
    server = await make_server(
        app_service_config_files=[str(write_registration(tmp_path, "bridge", text))]
    )
    bridge = Bridge(f"http://127.0.0.1:{server.http.port}", port, tmp_path)
    await bridge.start()
    try:
        alice: User = await server.register("alice")
        room = await alice.create_room()
        # Carol does not exist yet: inviting her makes the homeserver ask the bridge,
        # which registers the puppet; the invite then goes through and she joins.
        (await alice.invite(room, PUPPET)).ok()
        assert bridge.queried == [PUPPET]

        async def carol_joined() -> bool:
            reply = await alice.call("GET", f"/rooms/{q(room)}/joined_members")
            return PUPPET in reply.ok()["joined"]

        await until(carol_joined, "the puppet to join", timeout=15.0)
        await alice.send(room, "to carol: hello there")

        async def answered() -> bool:
            chunk = (await alice.messages(room, dir="b", limit="10")).ok()["chunk"]
            return any(
                e["sender"] == PUPPET and e["content"].get("body") == "carol says: hello there"
                for e in chunk
            )

        await until(answered, "the puppet's answer", timeout=15.0)

        # A bridged room with an alias in the bridge's namespace, joinable by alias.
        portal = await bridge.appservice.intent.create_room(
            alias_localpart="_bridge_portal",
            name="Bridged",
            preset=mautrix_types.RoomCreatePreset.PUBLIC,
        )
        joined = await alice.call("POST", f"/join/{q('#_bridge_portal:' + SERVER)}", {})
        assert joined.ok()["room_id"] == str(portal)

        # The bridge goes away; what happens meanwhile waits for it.
        await bridge.stop()
        missed = [await alice.send(room, f"while away {i}") for i in range(5)]
        await asyncio.sleep(0.5)
        await bridge.start()
        # The bridge tells the homeserver it is back (spec: "/appservice/{id}/ping").
        ping = await alice.http.post(
            "/_matrix/client/v1/appservice/bridge/ping",
            json={"transaction_id": "back"},
            headers={"Authorization": f"Bearer {AS_TOKEN}_bridge"},
        )
        assert ping.status == 200, await ping.text()

        async def caught_up() -> bool:
            return sum(m.startswith("while away") for m in bridge.messages(room)) >= 5

        await until(caught_up, "the missed messages", timeout=15.0)
        await asyncio.sleep(0.5)  # nothing more should arrive
        away = [m for m in bridge.messages(room) if m.startswith("while away")]
        assert away == [f"while away {i}" for i in range(5)]  # each once, in order
        assert len(missed) == 5
    finally:
        await bridge.stop()
