"""Voice end to end: a real homeserver, the real SFU (access and media halves) registered
as its application service, aiortc clients that connect the way our web client does.

OpenID token from the homeserver -> ``POST /token`` -> JWT in the WebSocket's join frame ->
media forwarded; presence shown as ``org.matrix.msc3401.call.member`` state; a kick on the
homeserver drops the participant's media and presence at once.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from sfu.app import media_voice
from tests.conftest import FakeClock
from tests.support.matrix_client import SERVER
from tests.support.server_fixtures import MakeServer
from tests.support.server_fixtures import make_server as make_server
from tests.support.server_fixtures import server_config as server_config
from tests.support.waiting import until

from .auth.harness import VoiceSetup, call_members, start_voice_setup, voice_room
from .media.client import ColorTrack, ToneTrack, VoiceClient

BOT = f"@sfu:{SERVER}"
__all__ = ["make_server", "server_config"]


@pytest.fixture
def db_engine() -> str:
    return "sqlite"  # the SFU stores nothing


@pytest.fixture
async def real_voice(
    make_server: MakeServer, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[VoiceSetup]:
    setup = await start_voice_setup(make_server, clock, tmp_path, voice_factory=media_voice)
    try:
        yield setup
    finally:
        await setup.sfu.stop()


async def streams(setup: VoiceSetup) -> float:
    async with setup.sfu.session.get("/metrics") as resp:
        text = await resp.text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    return families["concord_sfu_streams"].samples[0].value


async def test_two_members_talk_then_one_is_kicked(real_voice: VoiceSetup) -> None:
    server, sfu = real_voice.server, real_voice.sfu
    alice = await server.register("alice")
    bob = await server.register("bob")
    room = await voice_room(alice, BOT)
    (await bob.join(room)).ok()
    async with aiohttp.ClientSession() as http:
        clients = []
        try:
            for user, device in ((alice, "ALICE_PC"), (bob, "BOB_PHONE")):
                status, token = await sfu.token_for(user, room, device)
                assert status == 200, token
                assert token["url"] == sfu.ws_url
                client = VoiceClient(http, token["url"])
                clients.append(client)
                joined = await client.join(token["jwt"])
                assert joined["type"] == "joined", joined
                assert joined["user_id"] == user.user_id
            alice_client, bob_client = clients
            await alice_client.publish([("audio", ToneTrack(440.0))])
            await bob_client.publish([("webcam", ColorTrack((20, 200, 20)))])

            async def media_flows() -> bool:
                heard = await bob_client.packets_received(alice.user_id, "audio")
                seen = await alice_client.packets_received(bob.user_id, "webcam")
                return heard > 10 and seen > 5

            await until(media_flows, "audio to bob and video to alice", timeout=20)
            assert await streams(real_voice) == 2

            async def presence() -> dict[str, dict[str, object]]:
                members = await call_members(alice, room)
                return members if all(members.values()) and len(members) == 2 else {}

            members = await until(presence, "both shown in the voice channel")
            assert members[f"_{alice.user_id}_ALICE_PC"]["im.concord.tracks"] == ["audio"]
            assert members[f"_{bob.user_id}_BOB_PHONE"]["im.concord.tracks"] == ["webcam"]

            # Moderation asks the homeserver's power levels (room v12: the creator outranks).
            await bob_client.send(
                {"type": "moderate_mute", "user_id": alice.user_id, "muted": True}
            )
            refused = await bob_client.next_error(10)
            assert refused["errcode"] == "M_FORBIDDEN"
            await alice_client.send(
                {"type": "moderate_mute", "user_id": bob.user_id, "muted": True}
            )

            async def bob_server_muted() -> bool:
                me = alice_client.person(bob.user_id)
                return me is not None and me["server_muted"]

            await until(bob_server_muted, "alice's moderator mute of bob to apply")

            (await alice.act("kick", room, bob.user_id)).ok()

            async def bob_dropped() -> bool:
                members = await call_members(alice, room)
                return (
                    bob_client.close_code is not None and not members[f"_{bob.user_id}_BOB_PHONE"]
                )

            await until(bob_dropped, "bob's media and presence dropped on the kick")
            assert bob_client.close_code == 4403
            # He cannot come back: his homeserver's word is checked again.
            status, refused = await sfu.token_for(bob, room, "BOB_PHONE")
            assert (status, refused["errcode"]) == (403, "M_FORBIDDEN")

            await alice_client.send({"type": "leave"})

            async def alice_gone() -> bool:
                return not (await call_members(alice, room))[f"_{alice.user_id}_ALICE_PC"]

            await until(alice_gone, "alice's presence cleared when she leaves")
        finally:
            for client in clients:
                await client.close()


async def test_stopping_the_sfu_ends_calls_at_once(real_voice: VoiceSetup) -> None:
    """Shutdown closes the calls' WebSockets (1001, going away) and clears their presence
    before the HTTP server waits for open requests (which would hold it for seconds)."""
    server, sfu = real_voice.server, real_voice.sfu
    alice = await server.register("alice")
    room = await voice_room(alice, BOT)
    async with aiohttp.ClientSession() as http:
        _, token = await sfu.token_for(alice, room, "D")
        client = VoiceClient(http, token["url"])
        try:
            await client.join(token["jwt"])

            async def shown() -> bool:
                return bool((await call_members(alice, room)).get(f"_{alice.user_id}_D"))

            await until(shown, "alice shown in the channel")
            started = time.monotonic()
            await sfu.stop()
            assert time.monotonic() - started < 3
            await until(lambda: _closed(client), "the socket to close")
            assert client.close_code == 1001
            assert (await call_members(alice, room))[f"_{alice.user_id}_D"] == {}
        finally:
            await client.close()


async def _closed(client: VoiceClient) -> bool:
    return client.close_code is not None
