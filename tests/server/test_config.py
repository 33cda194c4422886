"""config.yaml validation: every mistake is one clear line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeserver.config import ConfigError, load_config, parse_config

REPO = Path(__file__).resolve().parents[2]


def parse(data: object, tmp_path: Path):
    return parse_config(data, source="c.yaml", base_dir=tmp_path)


def test_sample_config_in_repo_is_valid() -> None:
    config = load_config(REPO / "config.yaml")
    assert config.server_name == "localhost:8008"
    assert config.database.engine == "sqlite"


def test_defaults(tmp_path: Path) -> None:
    config = parse({"server_name": "example.org"}, tmp_path)
    assert config.client_listener.port == 8008
    assert config.data_dir == tmp_path / "data"
    assert config.database.path == tmp_path / "data" / "concord.db"
    assert config.public_baseurl == "http://127.0.0.1:8008/"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({}, "server_name"),
        ({"server_name": "bad name!"}, "server_name"),
        (
            {"server_name": "a.org", "listeners": {"client": {"port": 70000}}},
            "listeners.client.port",
        ),
        (
            {"server_name": "a.org", "listeners": {"client": {"host": "my host"}}},
            "listeners.client.host",
        ),
        ({"server_name": "a.org", "database": {"engine": "mysql"}}, "database.engine"),
        ({"server_name": "a.org", "database": {"engine": "postgres"}}, "database.dsn"),
        ({"server_name": "a.org", "enable_registration": "yes"}, "enable_registration"),
        ({"server_name": "a.org", "registration_tokens": "abc"}, "registration_tokens"),
        ({"server_name": "a.org", "log_level": "loud"}, "log_level"),
        ({"server_name": "a.org", "sever_name": "typo"}, "sever_name"),
        ({"server_name": "a.org", "public_baseurl": "ftp://x"}, "public_baseurl"),
    ],
)
def test_errors_name_the_key(data: dict[str, object], key: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        parse(data, tmp_path)
    assert f"`{key}`" in str(info.value)
    assert str(info.value).startswith("c.yaml:")


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("server_name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_accounts_defaults(tmp_path: Path) -> None:
    config = parse({"server_name": "example.org"}, tmp_path)
    assert config.bcrypt_rounds == 12
    assert config.refreshable_access_token_lifetime_ms == 300_000
    assert config.jwt.enabled is False


def test_jwt_section(tmp_path: Path) -> None:
    config = parse(
        {
            "server_name": "a.org",
            "bcrypt_rounds": 4,
            "jwt": {
                "enabled": True,
                "secret": "s",
                "issuer": "https://id.a.org",
                "audiences": ["concord", "web"],
            },
        },
        tmp_path,
    )
    assert config.bcrypt_rounds == 4
    assert config.jwt.enabled
    assert config.jwt.secret == "s"
    assert config.jwt.algorithm == "HS256"
    assert config.jwt.subject_claim == "sub"
    assert config.jwt.issuer == "https://id.a.org"
    assert config.jwt.audiences == ("concord", "web")
    # A disabled section needs no secret.
    assert not parse({"server_name": "a.org", "jwt": {"enabled": False}}, tmp_path).jwt.enabled


@pytest.mark.parametrize(
    ("jwt", "key"),
    [
        ("yes", "jwt"),
        ({"enabled": "yes"}, "jwt.enabled"),
        ({"enabled": True}, "jwt.secret"),
        ({"enabled": True, "secret": ""}, "jwt.secret"),
        ({"enabled": True, "secret": "s", "algorithm": "none"}, "jwt.algorithm"),
        ({"enabled": True, "secret": "s", "subject_claim": 5}, "jwt.subject_claim"),
        ({"enabled": True, "secret": "s", "issuer": 5}, "jwt.issuer"),
        ({"enabled": True, "secret": "s", "audiences": "concord"}, "jwt.audiences"),
        ({"enabled": True, "secret": "s", "audience": ["x"]}, "jwt.audience"),
    ],
)
def test_jwt_errors_name_the_key(jwt: object, key: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        parse({"server_name": "a.org", "jwt": jwt}, tmp_path)
    assert f"`{key}`" in str(info.value)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"bcrypt_rounds": 3}, "bcrypt_rounds"),
        ({"bcrypt_rounds": "12"}, "bcrypt_rounds"),
        ({"refreshable_access_token_lifetime_ms": 0}, "refreshable_access_token_lifetime_ms"),
    ],
)
def test_accounts_errors_name_the_key(data: dict[str, object], key: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        parse({"server_name": "a.org", **data}, tmp_path)
    assert f"`{key}`" in str(info.value)


def test_rate_limits(tmp_path: Path) -> None:
    config = parse({"server_name": "a.org"}, tmp_path)
    assert config.rate_limits.enabled
    config = parse(
        {"server_name": "a.org", "rate_limits": {"enabled": False, "actions_per_second": 2.5}},
        tmp_path,
    )
    assert not config.rate_limits.enabled
    assert config.rate_limits.actions_per_second == 2.5
    for bad, key in (
        ({"actions_per_second": 0}, "rate_limits.actions_per_second"),
        ({"actions_burst": "x"}, "rate_limits.actions_burst"),
        ({"speed": 1}, "rate_limits.speed"),
    ):
        with pytest.raises(ConfigError, match=f"`{key}`"):
            parse({"server_name": "a.org", "rate_limits": bad}, tmp_path)


def test_media_settings(tmp_path: Path) -> None:
    config = parse({"server_name": "a.org"}, tmp_path)
    assert config.media_store_path == tmp_path / "data" / "media"
    assert config.max_upload_size == 50 * 1024 * 1024
    assert config.max_image_pixels == 32_000_000
    config = parse(
        {
            "server_name": "a.org",
            "data_dir": "d",
            "media_store_path": "/srv/media",
            "max_upload_size": 1024 * 1024,
            "max_image_pixels": 1000,
        },
        tmp_path,
    )
    assert config.media_store_path == Path("/srv/media")
    assert (config.max_upload_size, config.max_image_pixels) == (1024 * 1024, 1000)
    config = parse({"server_name": "a.org", "media_store_path": "m"}, tmp_path)
    assert config.media_store_path == tmp_path / "m"
    sample = load_config(REPO / "config.yaml")
    assert sample.max_upload_size == 50 * 1024 * 1024
    for bad, key in (
        ({"max_upload_size": 0}, "max_upload_size"),
        ({"max_upload_size": "50M"}, "max_upload_size"),
        ({"max_upload_size": 2 * 1024**3}, "max_upload_size"),
        ({"max_image_pixels": -1}, "max_image_pixels"),
        ({"media_store_path": ""}, "media_store_path"),
    ):
        with pytest.raises(ConfigError, match=f"`{key}`"):
            parse({"server_name": "a.org", **bad}, tmp_path)
