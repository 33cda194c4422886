"""One homeserver with the SFU registered as its application service, and that SFU
running on loopback (``harness.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from appservice.pusher.queue import BackoffPolicy
from appservice.pusher.setup import PUSHER_KEY
from tests.conftest import FakeClock
from tests.support.matrix_client import SERVER, Server
from tests.support.server_fixtures import MakeServer
from tests.support.server_fixtures import make_server as make_server
from tests.support.server_fixtures import server_config as server_config
from tests.support.waiting import free_port

from .harness import RunningSfu, sfu_config, start_sfu, write_registration

BOT = f"@sfu:{SERVER}"
__all__ = ["make_server", "server_config"]


@pytest.fixture
def db_engine() -> str:
    # The SFU stores nothing; the homeserver's storage runs on both engines elsewhere.
    return "sqlite"


@dataclass
class VoiceSetup:
    server: Server
    sfu: RunningSfu


@pytest.fixture
async def voice(
    make_server: MakeServer, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[VoiceSetup]:
    port = free_port()
    # The registration needs only the SFU's address and tokens: written before the
    # homeserver starts (it reads registrations at start), the SFU started after it.
    draft = sfu_config(SERVER, "http://127.0.0.1:1", port, {})
    server = await make_server(app_service_config_files=[write_registration(tmp_path, draft)])
    server.app[PUSHER_KEY].backoff = BackoffPolicy(min_ms=50, max_ms=200)
    homeserver_url = f"http://127.0.0.1:{server.http.port}"
    config = sfu_config(SERVER, homeserver_url, port, {SERVER: homeserver_url})
    sfu = await start_sfu(config, clock)
    setup = VoiceSetup(server, sfu)
    try:
        yield setup
    finally:
        await setup.sfu.stop()  # a test may have restarted it
