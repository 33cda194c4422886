"""The federation part of ``config.yaml``: the TLS listener and the ``federation`` section.

Kept apart from ``config`` (which re-exports these names) so that each file stays short.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeserver.protocol.canonical import decode_unpadded_base64
from homeserver.protocol.errors import CanonicalJsonError, InvalidIdentifier
from homeserver.protocol.ids import parse_server_name

if TYPE_CHECKING:
    from homeserver.config import _Reader

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class TlsListener:
    """Where the federation API is served over HTTPS (spec: server-server "TLS")."""

    host: str
    port: int
    tls_certificate: Path  # PEM certificate chain
    tls_private_key: Path  # PEM private key


@dataclass(frozen=True, slots=True)
class TrustedKeyServer:
    """A notary asked for other servers' keys (``/_matrix/key/v2/query``), and the keys
    its answers must be signed with."""

    server_name: str
    verify_keys: Mapping[str, str]  # key id -> unpadded base64 ed25519 public key


@dataclass(frozen=True, slots=True)
class FederationConfig:
    enabled: bool = True
    # None: every server may federate with us; else only these (and we only with them).
    domain_whitelist: frozenset[str] | None = None
    verify_certificates: bool = True
    # Outbound requests never reach private, loopback, link-local, multicast or reserved
    # addresses (SSRF guard), except inside these networks.
    ip_range_whitelist: tuple[IpNetwork, ...] = ()
    # server name -> (host, port) to connect to, skipping discovery (tests, fixed peers).
    server_overrides: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    trusted_key_servers: tuple[TrustedKeyServer, ...] = ()

    def allows(self, server_name: str) -> bool:
        """Whether ``domain_whitelist`` lets us federate with ``server_name``."""
        return self.domain_whitelist is None or server_name in self.domain_whitelist


_FEDERATION_KEYS = {
    "enabled",
    "domain_whitelist",
    "verify_certificates",
    "ip_range_whitelist",
    "server_overrides",
    "trusted_key_servers",
}


def parse_tls_listener(r: _Reader, section: dict[str, Any], base_dir: Path) -> TlsListener | None:
    """``listeners.federation``; absent or null means no federation listener."""
    if not section:
        return None
    known = {"host", "port", "tls_certificate", "tls_private_key"}
    for key in section:
        if key not in known:
            raise r.fail(f"listeners.federation.{key}", "is not a known setting")
    host = r.string(section, "listeners.federation.host", "127.0.0.1")
    try:
        ipaddress.ip_address(host)
    except ValueError as exc:
        raise r.fail("listeners.federation.host", "must be an IP address") from exc
    port = r.integer(section, "listeners.federation.port", 8448, 0, 65535)
    cert_path = base_dir / r.string(section, "listeners.federation.tls_certificate")
    key_path = base_dir / r.string(section, "listeners.federation.tls_private_key")
    return TlsListener(host=host, port=port, tls_certificate=cert_path, tls_private_key=key_path)


def _server_name(r: _Reader, value: object, key: str) -> str:
    if not isinstance(value, str):
        raise r.fail(key, "must be a server name")
    try:
        parse_server_name(value)
    except InvalidIdentifier as exc:
        raise r.fail(key, f"is not a valid server name: {exc}") from exc
    return value


def _host_port(r: _Reader, value: object, key: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` for IPv6 literals); the port is required."""
    if not isinstance(value, str):
        raise r.fail(key, "must be a string `host:port`")
    try:
        host, port = parse_server_name(value)
    except InvalidIdentifier as exc:
        raise r.fail(key, f"must be `host:port`: {exc}") from exc
    if port is None:
        raise r.fail(key, "must be `host:port` (the port is required)")
    return host.strip("[]"), port


def _parse_trusted_key_servers(r: _Reader, value: object) -> tuple[TrustedKeyServer, ...]:
    key = "federation.trusted_key_servers"
    if value is None:
        return ()
    if not isinstance(value, list):
        raise r.fail(key, "must be a list of {server_name, verify_keys}")
    servers: list[TrustedKeyServer] = []
    for i, entry in enumerate(value):
        where = f"{key}[{i}]"
        if not isinstance(entry, dict):
            raise r.fail(where, "must be a mapping with `server_name` and `verify_keys`")
        for name in entry:
            if name not in ("server_name", "verify_keys"):
                raise r.fail(f"{where}.{name}", "is not a known setting")
        server_name = _server_name(r, entry.get("server_name"), f"{where}.server_name")
        keys = entry.get("verify_keys")
        if not isinstance(keys, dict) or not keys:
            raise r.fail(f"{where}.verify_keys", "must map key ids to base64 public keys")
        for key_id, b64 in keys.items():
            if not isinstance(key_id, str) or not key_id.startswith("ed25519:"):
                raise r.fail(f"{where}.verify_keys", f"key id {key_id!r} must be `ed25519:...`")
            try:
                raw = decode_unpadded_base64(b64) if isinstance(b64, str) else b""
            except CanonicalJsonError:
                raw = b""
            if len(raw) != 32:
                raise r.fail(f"{where}.verify_keys.{key_id}", "must be a base64 ed25519 public key")
        servers.append(TrustedKeyServer(server_name, dict(keys)))
    return tuple(servers)


def parse_federation(r: _Reader, section: dict[str, Any]) -> FederationConfig:
    for key in section:
        if key not in _FEDERATION_KEYS:
            raise r.fail(f"federation.{key}", "is not a known setting")
    whitelist_value = section.get("domain_whitelist")
    whitelist: frozenset[str] | None = None
    if whitelist_value is not None:
        if not isinstance(whitelist_value, list):
            raise r.fail("federation.domain_whitelist", "must be a list of server names or null")
        whitelist = frozenset(
            _server_name(r, name, f"federation.domain_whitelist[{i}]")
            for i, name in enumerate(whitelist_value)
        )
    ranges_value = section.get("ip_range_whitelist") or []
    if not isinstance(ranges_value, list):
        raise r.fail("federation.ip_range_whitelist", "must be a list of CIDR ranges")
    ranges: list[IpNetwork] = []
    for i, cidr in enumerate(ranges_value):
        try:
            ranges.append(ipaddress.ip_network(str(cidr), strict=False))
        except ValueError as exc:
            raise r.fail(
                f"federation.ip_range_whitelist[{i}]", f"is not a CIDR range: {exc}"
            ) from exc
    overrides_value = section.get("server_overrides") or {}
    if not isinstance(overrides_value, dict):
        raise r.fail("federation.server_overrides", "must map server names to `host:port`")
    overrides = {
        _server_name(r, name, f"federation.server_overrides.{name}"): _host_port(
            r, target, f"federation.server_overrides.{name}"
        )
        for name, target in overrides_value.items()
    }
    return FederationConfig(
        enabled=r.boolean(section, "federation.enabled", True),
        domain_whitelist=whitelist,
        verify_certificates=r.boolean(section, "federation.verify_certificates", True),
        ip_range_whitelist=tuple(ranges),
        server_overrides=overrides,
        trusted_key_servers=_parse_trusted_key_servers(r, section.get("trusted_key_servers")),
    )
