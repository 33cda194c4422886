"""One homeserver with the SFU registered as its application service, and that SFU
running on loopback (``harness.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import FakeClock
from tests.support.matrix_client import SERVER
from tests.support.server_fixtures import MakeServer
from tests.support.server_fixtures import make_server as make_server
from tests.support.server_fixtures import server_config as server_config

from .harness import VoiceSetup, start_voice_setup

BOT = f"@sfu:{SERVER}"
__all__ = ["VoiceSetup", "make_server", "server_config"]


@pytest.fixture
def db_engine() -> str:
    # The SFU stores nothing; the homeserver's storage runs on both engines elsewhere.
    return "sqlite"


@pytest.fixture
async def voice(
    make_server: MakeServer, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[VoiceSetup]:
    setup = await start_voice_setup(make_server, clock, tmp_path)
    try:
        yield setup
    finally:
        await setup.sfu.stop()  # a test may have restarted it
