"""A user of another homeserver joins a voice channel: their OpenID token is verified with
their own server (found by server discovery, or the config's map), their membership with
ours.

Two in-process Concord servers federating over loopback TLS (tests/support/federation.py);
the SFU is server A's application service.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from appservice.pusher.queue import BackoffPolicy
from appservice.pusher.setup import PUSHER_KEY
from sfu.generate import registration_yaml
from tests.support.federation import FederatedServer, StartFederation
from tests.support.federation import federation as federation
from tests.support.matrix_client import q
from tests.support.waiting import free_port

from .harness import RunningSfu, sfu_config, start_sfu, voice_room

__all__ = ["federation"]


@dataclass
class Federated:
    a: FederatedServer
    b: FederatedServer
    sfu: RunningSfu


async def start(federation: StartFederation, tmp_path: Path, *, map_b: bool) -> Federated:
    port = free_port()
    # A's name (localhost:<port>) is chosen as it starts, after it read the registration:
    # the namespace is written for any localhost port.
    draft = sfu_config("localhost", "http://127.0.0.1:1", port, {})
    text = registration_yaml(draft).replace(
        "^" + re.escape(draft.bot_user_id) + "$", r"^@sfu:localhost:[0-9]+$"
    )
    registration = tmp_path / "sfu-registration.yaml"
    registration.write_text(text)
    a, b = await federation(2, configs=[{"app_service_config_files": [str(registration)]}])
    a.app[PUSHER_KEY].backoff = BackoffPolicy(min_ms=50, max_ms=200)
    a_url = f"http://127.0.0.1:{a.client_port}"
    servers = {a.name: a_url}
    if map_b:
        servers[b.name] = f"https://127.0.0.1:{b.fed_port}"
    # B is on loopback: when discovered, the address guard must let it through.
    config = sfu_config(a.name, a_url, port, servers, allow_private=not map_b)
    return Federated(a, b, await start_sfu(config, a.clock))


@pytest.fixture(params=["discovered", "mapped"])
async def fed(
    request: pytest.FixtureRequest, federation: StartFederation, tmp_path: Path
) -> AsyncIterator[Federated]:
    # "discovered": B's name has an explicit port, so discovery goes to
    # https://localhost:<port> (spec: "Resolving server names", step 2).
    setup = await start(federation, tmp_path, map_b=request.param == "mapped")
    try:
        yield setup
    finally:
        await setup.sfu.stop()


async def test_a_remote_member_gets_a_token(fed: Federated) -> None:
    alice = await fed.a.register("alice")
    bob = await fed.b.register("bob")
    room = await voice_room(alice, fed.sfu.config.bot_user_id)
    status, body = await fed.sfu.token_for(bob, room)  # OpenID token from B
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN"), body  # not joined yet
    (await bob.call("POST", f"/join/{q(room)}", {}, params={"via": fed.a.name})).ok()
    status, body = await fed.sfu.token_for(bob, room, "BOBS_PHONE")
    assert status == 200, body
    grant = fed.sfu.services.access.verify(body["jwt"])
    assert (grant.user_id, grant.room_id, grant.device_id) == (bob.user_id, room, "BOBS_PHONE")


async def test_a_token_of_one_server_does_not_pass_for_another(fed: Federated) -> None:
    """B's OpenID token presented as A's: A does not know it."""
    alice = await fed.a.register("alice")
    bob = await fed.b.register("bob")
    room = await voice_room(alice, fed.sfu.config.bot_user_id)
    (await bob.call("POST", f"/join/{q(room)}", {}, params={"via": fed.a.name})).ok()
    openid = (await bob.call("POST", f"/user/{q(bob.user_id)}/openid/request_token", {})).ok()
    assert openid["matrix_server_name"] == fed.b.name
    openid["matrix_server_name"] = fed.a.name
    status, body = await fed.sfu.post_token(
        {"room_id": room, "device_id": "D", "openid_token": openid}
    )
    assert (status, body["errcode"]) == (401, "M_UNKNOWN_TOKEN"), body
