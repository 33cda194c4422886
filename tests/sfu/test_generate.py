"""First run as ``make run`` does it: the homeserver's generate-config, then the SFU's
generate (config with fresh secrets, the bot's registration, listed in the homeserver
config); then both serve and the bot answers invites. Nothing by hand."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest

from appservice.registration import load_registrations
from homeserver.__main__ import main as homeserver_main
from homeserver.config import load_config as load_homeserver_config
from sfu.__main__ import main as sfu_main
from sfu.config import load_config
from tests.sfu.auth.harness import start_sfu, voice_room
from tests.support.concord import create_guild
from tests.support.matrix_client import User, q
from tests.support.waiting import free_port, until


@pytest.fixture
def first_run(tmp_path: Path) -> tuple[Path, Path, int]:
    """(homeserver config, SFU config, homeserver client port), both generated."""
    hs_config, sfu_config = tmp_path / "data" / "config.yaml", tmp_path / "data" / "sfu.yaml"
    port = free_port()
    fed_port = free_port()
    hs_args = ["--server-name", f"localhost:{port}", "--port", str(port)]
    hs_args += ["--federation-port", str(fed_port)]
    assert homeserver_main(["generate-config", "--config", str(hs_config), *hs_args]) == 0
    args = ["generate", "--config", str(sfu_config), "--homeserver-config", str(hs_config)]
    assert sfu_main([*args, "--port", str(free_port())]) == 0
    return hs_config, sfu_config, port


def test_generate_writes_config_registration_and_lists_it(
    first_run: tuple[Path, Path, int], capsys: pytest.CaptureFixture[str]
) -> None:
    hs_path, sfu_path, port = first_run
    hs = load_homeserver_config(hs_path)
    sfu = load_config(sfu_path)
    registration_path = sfu_path.parent / "sfu-registration.yaml"
    assert hs.app_service_config_files == (registration_path.resolve(),)
    (reg,) = load_registrations(hs.app_service_config_files, hs.server_name)
    assert reg.sender == sfu.bot_user_id == f"@sfu:localhost:{port}"
    assert (reg.as_token, reg.hs_token) == (sfu.app_service.as_token, sfu.app_service.hs_token)
    assert reg.url == f"http://127.0.0.1:{sfu.port}"
    assert reg.interested_in_user(sfu.bot_user_id)
    assert not reg.interested_in_user(f"@alice:localhost:{port}")  # the bot alone
    assert sfu.homeserver_url == f"http://127.0.0.1:{port}"
    # The steward invites the bot into voice channels; clients find the SFU's URL.
    assert (hs.concord.sfu_user_id, hs.concord.sfu_url) == (sfu.bot_user_id, sfu.public_url)
    assert len(sfu.jwt_secret) >= 32 and sfu.jwt_secret != sfu.app_service.as_token
    for secret_file in (sfu_path, registration_path):
        assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
    # Again: nothing to do, nothing changed.
    before = [p.read_text() for p in (hs_path, sfu_path, registration_path)]
    capsys.readouterr()
    assert (
        sfu_main(["generate", "--config", str(sfu_path), "--homeserver-config", str(hs_path)]) == 0
    )
    assert capsys.readouterr().out == ""
    assert [p.read_text() for p in (hs_path, sfu_path, registration_path)] == before


def test_generate_refuses_to_edit_an_existing_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hs = tmp_path / "config.yaml"
    hs.write_text('server_name: "a.test"\napp_service_config_files: ["bridge.yaml"]\n')
    args = ["generate", "--config", str(tmp_path / "sfu.yaml"), "--homeserver-config", str(hs)]
    assert sfu_main(args) == 2
    err = capsys.readouterr().err
    assert "`app_service_config_files`" in err and "sfu-registration.yaml" in err


def test_generate_names_what_to_add_to_an_existing_concord_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hs = tmp_path / "config.yaml"
    hs.write_text('server_name: "a.test"\nconcord:\n  steward_localpart: "concord"\n')
    args = ["generate", "--config", str(tmp_path / "sfu.yaml"), "--homeserver-config", str(hs)]
    assert sfu_main(args) == 2
    err = capsys.readouterr().err
    assert 'sfu_user_id: "@sfu:a.test"' in err and "sfu_url:" in err and "`concord`" in err


@pytest.fixture
def homeserver_process(first_run: tuple[Path, Path, int]) -> Iterator[str]:
    hs_config, _, port = first_run
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    created = subprocess.run(
        [sys.executable, "-m", "homeserver", "register-user", "--config", str(hs_config),
         "--password", "pw", "alice"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "homeserver", "run", "--config", str(hs_config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def test_the_generated_pair_works_together(
    first_run: tuple[Path, Path, int], homeserver_process: str
) -> None:
    """The homeserver from its generated config, the SFU from its own (media half
    replaced): the bot joins the room it is invited to, a member gets a token."""
    _, sfu_path, _ = first_run
    config = load_config(sfu_path)
    async with aiohttp.ClientSession(base_url=homeserver_process) as http:

        async def up() -> bool:
            try:
                async with http.get("/_matrix/client/versions") as resp:
                    return resp.status == 200
            except aiohttp.ClientError:
                return False

        await until(up, "the homeserver to serve", timeout=30)
        login = {"type": "m.login.password", "user": "alice", "password": "pw"}
        async with http.post("/_matrix/client/v3/login", json=login) as resp:
            body = await resp.json()
        client = cast(Any, _Http(http))
        alice = User(client, body["user_id"], body["access_token"], body["device_id"])
        async with http.get("/.well-known/matrix/client") as resp:
            foci = (await resp.json())["org.matrix.msc4143.rtc_foci"]
        assert foci == [{"type": "im.concord.sfu", "url": config.public_url}]
        sfu = await start_sfu(config, _SystemClock())
        try:
            room = await voice_room(alice, config.bot_user_id)
            status, token = await sfu.token_for(alice, room)
            assert status == 200, token
            assert sfu.services.access.verify(token["jwt"]).user_id == alice.user_id
            # A guild's voice channel: the steward invites the bot, the bot joins, and
            # a member can connect with no one inviting anyone by hand.
            guild = await create_guild(alice, "Pals")
            (voice,) = [c["room_id"] for c in guild["channels"] if c["kind"] == "voice"]

            async def bot_joined() -> bool:
                path = f"/rooms/{q(voice)}/state/m.room.member/{q(config.bot_user_id)}"
                reply = await alice.call("GET", path)
                return reply.status == 200 and reply.body.get("membership") == "join"

            await until(bot_joined, "the SFU bot to join the guild's voice channel")
            status, token = await sfu.token_for(alice, voice)
            assert status == 200, token
        finally:
            await sfu.stop()


class _Http:
    """What ``User`` needs of an HTTP client, over a plain aiohttp session."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def request(self, method: str, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.session.request(method, path, **kwargs)


class _SystemClock:
    def time_ms(self) -> int:
        import time

        return int(time.time() * 1000)
