"""A Synapse user in a Concord voice channel, every party a real process: Concord (room's
homeserver, the SFU registered there as an application service), the reference Synapse
(the user's homeserver), and ``python -m sfu run``.

The Synapse user joins the voice room over federation, asks Synapse for an OpenID token,
and trades it at the SFU, which verifies it with Synapse's
``/_matrix/federation/v1/openid/userinfo`` and the membership with Concord. Skipped
without Synapse (``make synapse``) unless ``REQUIRE_SYNAPSE=1``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
import yaml

from sfu.auth.tokens import AUDIENCE
from sfu.generate import registration_yaml
from tests.interop.client import MxUser, q, wait_until
from tests.interop.concord_process import FederatedConcord
from tests.interop.processes import free_ports, stop_process, tail, wait_for_health
from tests.interop.synapse_process import SynapseServer, synapse_python

from .auth.harness import CALL_MEMBER, sfu_config

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Deployment:
    concord: FederatedConcord
    synapse: SynapseServer
    sfu_url: str
    bot: str
    secret: str


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    if synapse_python() is None:
        message = "Synapse not installed (run `make synapse`)"
        if os.environ.get("REQUIRE_SYNAPSE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    c_fed, c_client, s_fed, s_client, sfu_port = free_ports(5)
    domains = [f"localhost:{c_fed}", f"localhost:{s_fed}"]
    concord_name = domains[0]
    config = sfu_config(
        concord_name,
        f"http://127.0.0.1:{c_client}",
        sfu_port,
        {domains[1]: f"https://127.0.0.1:{s_fed}"},
    )
    registration = tmp_path / "sfu-registration.yaml"
    registration.write_text(registration_yaml(config))
    concord = FederatedConcord(
        tmp_path / "concord",
        fed_port=c_fed,
        client_port=c_client,
        federation_domains=domains,
        cert_dir=tmp_path,
    )
    hs_config = yaml.safe_load(concord.config_path.read_text())
    hs_config["app_service_config_files"] = [str(registration)]
    concord.config_path.write_text(yaml.safe_dump(hs_config))
    synapse = SynapseServer(
        tmp_path / "synapse",
        fed_port=s_fed,
        client_port=s_client,
        federation_domains=domains,
        cert_dir=tmp_path,
    )
    sfu_yaml = tmp_path / "sfu.yaml"
    sfu_yaml.write_text(
        yaml.safe_dump(
            {
                "server_name": config.server_name,
                "homeserver_url": config.homeserver_url,
                "listen": {"host": "127.0.0.1", "port": sfu_port},
                "jwt": {"secret": config.jwt_secret},
                "app_service": {
                    "as_token": config.app_service.as_token,
                    "hs_token": config.app_service.hs_token,
                },
                "discovery": {"servers": config.discovery.servers, "verify_tls": False},
            }
        )
    )
    sfu_log = tmp_path / "sfu.log"
    sfu_proc: subprocess.Popen[bytes] | None = None
    try:
        concord.start()
        synapse.start()
        with sfu_log.open("wb") as out:
            sfu_proc = subprocess.Popen(
                [sys.executable, "-m", "sfu", "run", "--config", str(sfu_yaml)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=REPO,
            )
        sfu_url = f"http://127.0.0.1:{sfu_port}"
        proc = sfu_proc
        wait_for_health(
            sfu_url, time.monotonic() + 30, lambda: proc.poll() is None, lambda: tail(sfu_log)
        )
        yield Deployment(concord, synapse, sfu_url, config.bot_user_id, config.jwt_secret)
    finally:
        stop_process(sfu_proc)
        synapse.stop()
        concord.stop()


def trade(d: Deployment, user: MxUser, room: str) -> tuple[int, Any]:
    openid = user.ok("POST", f"/user/{q(user.user_id)}/openid/request_token", {})
    body = {"room_id": room, "device_id": "SYNAPSE_DEV", "openid_token": openid}
    req = urllib.request.Request(
        d.sfu_url + "/token",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_a_synapse_user_joins_a_concord_voice_channel(deployment: Deployment) -> None:
    d = deployment
    alice = MxUser.register(d.concord, "alice")
    room = alice.create_room(
        preset="public_chat",
        creation_content={"type": "im.concord.voice"},
        power_level_content_override={"events": {CALL_MEMBER: 0}},
    )
    alice.ok("POST", f"/rooms/{q(room)}/invite", {"user_id": d.bot})

    def bot_joined() -> bool:
        status, member = alice.call("GET", f"/rooms/{q(room)}/state/m.room.member/{q(d.bot)}")
        return status == 200 and member.get("membership") == "join"

    wait_until(bot_joined, "the SFU's bot to join the voice room")
    bob = MxUser.register(d.synapse, "bob")
    status, refused = trade(d, bob, room)
    assert (status, refused["errcode"]) == (403, "M_FORBIDDEN"), refused
    bob.join(room, via=alice.server_name)

    def bob_joined_on_concord() -> bool:
        status, member = alice.call("GET", f"/rooms/{q(room)}/state/m.room.member/{q(bob.user_id)}")
        return status == 200 and member.get("membership") == "join"

    wait_until(bob_joined_on_concord, "Concord to see bob's join")
    status, body = trade(d, bob, room)
    assert status == 200, body
    claims = jwt.decode(body["jwt"], d.secret, algorithms=["HS256"], audience=AUDIENCE)
    assert (claims["sub"], claims["room"]) == (bob.user_id, room)
    alice.ok("POST", f"/rooms/{q(room)}/ban", {"user_id": bob.user_id})
    status, refused = trade(d, bob, room)
    assert (status, refused["errcode"]) == (403, "M_FORBIDDEN"), refused
    assert "banned" in refused["error"]
