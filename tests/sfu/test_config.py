"""The SFU's config: every mistake is refused with a message naming the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sfu.config import ConfigError, load_config, parse_config

GOOD: dict[str, Any] = {
    "server_name": "example.org",
    "homeserver_url": "http://127.0.0.1:8008/",
    "listen": {"host": "127.0.0.1", "port": 8090},
    "jwt": {"secret": "s" * 32},
    "app_service": {"as_token": "a" * 32, "hs_token": "h" * 32},
}


def with_(**changes: Any) -> dict[str, Any]:
    data = dict(GOOD)
    for key, value in changes.items():
        section, _, sub = key.partition("__")
        if sub:
            data[section] = {**data.get(section, {}), sub: value}
        elif value is None:
            data.pop(section)
        else:
            data[section] = value
    return data


def test_defaults() -> None:
    config = parse_config(GOOD, "sfu.yaml")
    assert config.homeserver_url == "http://127.0.0.1:8008"
    assert config.public_url == "http://127.0.0.1:8090"
    assert config.bot_user_id == "@sfu:example.org"
    assert config.jwt_ttl_seconds == 300
    assert config.discovery.verify_tls is True
    assert (config.drop_timeout_s, config.ice_host) == (10.0, "127.0.0.1")
    bare = parse_config(with_(listen=None), "sfu.yaml")
    assert (bare.host, bare.port, bare.public_url) == ("127.0.0.1", 8090, "http://127.0.0.1:8090")


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (with_(server_name=None), "`server_name` is required"),
        (with_(server_name="a b"), "`server_name` is not a valid server name"),
        (with_(homeserver_url="ftp://x"), "`homeserver_url` must be a URL"),
        (with_(listen__port=70000), "`listen.port` must be between"),
        (with_(listen__port=80.5), "`listen.port` must be a whole number"),
        (with_(jwt__secret="short"), "`jwt.secret` must be at least 32"),
        (with_(jwt__secret="x" * 31), "`jwt.secret` must be at least 32"),
        (with_(jwt=None), "`jwt` is required"),
        (with_(jwt__ttl_seconds=1), "`jwt.ttl_seconds` must be between"),
        (with_(app_service__hs_token=None), "`app_service.hs_token` is required"),
        (with_(app_service__sender_localpart="Bad Bot"), "`app_service.sender_localpart`"),
        (with_(discovery={"servers": ["x"]}), "`discovery.servers` must be a mapping"),
        (with_(discovery={"servers": {"a.org": "a.org"}}), "`discovery.servers.a.org`"),
        (with_(discovery={"verify_tls": "no"}), "`discovery.verify_tls` must be true or false"),
        (with_(media={"drop_timeout_s": "soon"}), "`media.drop_timeout_s` must be a number"),
        (with_(log_level="loud"), "`log_level` must be one of"),
        (with_(surprise=1), "`surprise` is not a known key"),
    ],
)
def test_errors_name_the_key(data: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError, match="sfu.yaml: " + named.replace(".", r"\.")):
        parse_config(data, "sfu.yaml")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("jwt: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
