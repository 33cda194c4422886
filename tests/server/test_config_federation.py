"""The federation settings: `listeners.federation` and the `federation` section."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from homeserver.config import ConfigError, parse_config

KEY_B64 = "l8Hft5qXKn1vfHrg3p4+W8gELQVo8N13JkluMfmn2sQ"


def parse(data: dict[str, object], tmp_path: Path):
    return parse_config({"server_name": "a.org", **data}, source="c.yaml", base_dir=tmp_path)


def test_defaults_have_no_listener_and_federation_enabled(tmp_path: Path) -> None:
    config = parse({}, tmp_path)
    assert config.federation_listener is None
    fed = config.federation
    assert fed.enabled and fed.verify_certificates
    assert fed.domain_whitelist is None and fed.allows("anyone.org")
    assert fed.ip_range_whitelist == () and dict(fed.server_overrides) == {}
    assert fed.trusted_key_servers == ()


def test_full_federation_section(tmp_path: Path) -> None:
    config = parse(
        {
            "listeners": {
                "federation": {
                    "host": "::1",
                    "port": 8448,
                    "tls_certificate": "tls.crt",
                    "tls_private_key": "tls.key",
                }
            },
            "federation": {
                "enabled": True,
                "domain_whitelist": ["b.org", "localhost:8448"],
                "verify_certificates": False,
                "ip_range_whitelist": ["127.0.0.0/8", "::1/128"],
                "server_overrides": {"b.org": "127.0.0.1:9000", "c.org": "[::1]:9001"},
                "trusted_key_servers": [
                    {"server_name": "notary.org", "verify_keys": {"ed25519:auto": KEY_B64}}
                ],
            },
        },
        tmp_path,
    )
    listener = config.federation_listener
    assert listener is not None
    assert (listener.host, listener.port) == ("::1", 8448)
    assert listener.tls_certificate == tmp_path / "tls.crt"
    assert listener.tls_private_key == tmp_path / "tls.key"
    fed = config.federation
    assert fed.domain_whitelist == frozenset({"b.org", "localhost:8448"})
    assert fed.allows("b.org") and not fed.allows("c.org")
    assert not fed.verify_certificates
    assert fed.ip_range_whitelist == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    assert dict(fed.server_overrides) == {"b.org": ("127.0.0.1", 9000), "c.org": ("::1", 9001)}
    (notary,) = fed.trusted_key_servers
    assert notary.server_name == "notary.org"
    assert dict(notary.verify_keys) == {"ed25519:auto": KEY_B64}


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"listeners": {"federation": {"port": 8448}}}, "listeners.federation.tls_certificate"),
        (
            {"listeners": {"federation": {"tls_certificate": "c", "host": "example.org"}}},
            "listeners.federation.host",
        ),
        (
            {"listeners": {"federation": {"tls_certificate": "c", "port": -1}}},
            "listeners.federation.port",
        ),
        (
            {"listeners": {"federation": {"tls_certificate": "c", "tls_private_key": "k"}, "x": 1}},
            "listeners.x",
        ),
        ({"listeners": {"federation": {"tls_cert": "c"}}}, "listeners.federation.tls_cert"),
        ({"federation": {"enabled": "yes"}}, "federation.enabled"),
        ({"federation": {"domain_whitelist": "b.org"}}, "federation.domain_whitelist"),
        ({"federation": {"domain_whitelist": ["bad name"]}}, "federation.domain_whitelist[0]"),
        (
            {"federation": {"ip_range_whitelist": ["10.0.0.0/33"]}},
            "federation.ip_range_whitelist[0]",
        ),
        ({"federation": {"ip_range_whitelist": "10.0.0.0/8"}}, "federation.ip_range_whitelist"),
        (
            {"federation": {"server_overrides": {"b.org": "127.0.0.1"}}},
            "federation.server_overrides.b.org",
        ),
        ({"federation": {"server_overrides": ["b.org"]}}, "federation.server_overrides"),
        (
            {"federation": {"trusted_key_servers": [{"server_name": "n.org"}]}},
            "federation.trusted_key_servers[0].verify_keys",
        ),
        (
            {
                "federation": {
                    "trusted_key_servers": [
                        {"server_name": "n.org", "verify_keys": {"ed25519:a": "xx"}}
                    ]
                }
            },
            "federation.trusted_key_servers[0].verify_keys.ed25519:a",
        ),
        ({"federation": {"verify_certs": False}}, "federation.verify_certs"),
    ],
)
def test_errors_name_the_key(data: dict[str, object], key: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        parse(data, tmp_path)
    assert f"`{key}`" in str(info.value)
    assert str(info.value).startswith("c.yaml:")
