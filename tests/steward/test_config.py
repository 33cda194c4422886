"""The ``concord`` section of config.yaml: the steward's localpart and the SFU bot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from homeserver.config import ConcordConfig, ConfigError, parse_config


def parse(tmp_path: Path, concord: Any) -> ConcordConfig:
    data = {"server_name": "test.local", "concord": concord}
    return parse_config(data, source="c.yaml", base_dir=tmp_path).concord


def test_defaults_and_values(tmp_path: Path) -> None:
    assert parse(tmp_path, None) == ConcordConfig("concord", None, 0)
    got = parse(tmp_path, {"steward_localpart": "guilds", "sfu_user_id": "@sfu:test.local"})
    assert got == ConcordConfig("guilds", "@sfu:test.local", 0)
    assert parse(tmp_path, {"sfu_power_level": 10}).sfu_power_level == 10
    assert parse(tmp_path, {"sfu_url": "https://sfu.a"}).sfu_url == "https://sfu.a"


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"steward": "x"}, "concord.steward"),
        ({"steward_localpart": "Steward"}, "concord.steward_localpart"),
        ({"steward_localpart": "a b"}, "concord.steward_localpart"),
        ({"steward_localpart": ""}, "concord.steward_localpart"),
        ({"sfu_user_id": "sfu"}, "concord.sfu_user_id"),
        ({"sfu_user_id": 5}, "concord.sfu_user_id"),
        ({"sfu_power_level": 100}, "concord.sfu_power_level"),
        ({"sfu_url": "sfu.example.org"}, "concord.sfu_url"),
        ({"sfu_url": 8090}, "concord.sfu_url"),
        ([], "concord"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, section: Any, key: str) -> None:
    with pytest.raises(ConfigError, match=f"`{key}`"):
        parse(tmp_path, section)
