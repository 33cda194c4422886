from __future__ import annotations

from pathlib import Path

import pytest

from homeserver.config import Config, parse_config
from homeserver.protocol.signing import SigningKey

from ..conftest import FakeClock

__all__ = ["FakeClock"]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return parse_config(
        {"server_name": "test.local", "listeners": {"client": {"port": 0}}},
        source="test.yaml",
        base_dir=tmp_path,
    )


@pytest.fixture
def signing_key() -> SigningKey:
    return SigningKey.from_seed("test.local", "a_test", b"\x01" * 32)
