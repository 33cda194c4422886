"""Typed loading of the SFU's YAML config (``python -m sfu run --config data/sfu.yaml``),
with errors that name the offending key.

    server_name: "localhost:8008"            # our homeserver: the bot is @<localpart>:<this>
    homeserver_url: "http://127.0.0.1:8008"  # its client-server API
    listen: {host: "127.0.0.1", port: 8090}
    public_url: "http://127.0.0.1:8090"      # how clients reach us (call.member focus url)
    jwt: {secret: "...", ttl_seconds: 300}
    app_service: {id: "concord-sfu", as_token: "...", hs_token: "...", sender_localpart: "sfu"}
    discovery: {servers: {"example.org": "https://10.0.0.2:8448"}, verify_tls: true,
                allow_private_addresses: false}
    media: {drop_timeout_s: 10, ice_host: "127.0.0.1"}
    log_level: info

``python -m sfu generate`` writes one (see ``sfu/generate.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sfu.auth.ids import is_server_name


class ConfigError(Exception):
    """The configuration is unusable; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class AppServiceConfig:
    """Our registration on the homeserver (spec: application-service API "Registration")."""

    id: str
    as_token: str
    hs_token: str
    sender_localpart: str


@dataclass(frozen=True, slots=True)
class DiscoveryConfig:
    """How the SFU finds a user's homeserver to verify their OpenID token: ``servers``
    maps a server name to a base URL (loopback, tests, private deployments); any other
    name goes through server discovery (spec: server-server "Resolving server names")."""

    servers: dict[str, str] = field(default_factory=dict)
    verify_tls: bool = True
    # Discovered servers at loopback/private addresses (tests, private deployments).
    allow_private_addresses: bool = False


@dataclass(frozen=True, slots=True)
class SfuConfig:
    server_name: str
    homeserver_url: str
    host: str
    port: int
    public_url: str
    jwt_secret: str
    app_service: AppServiceConfig
    jwt_ttl_seconds: int = 300
    discovery: DiscoveryConfig = field(default_factory=DiscoveryConfig)
    drop_timeout_s: float = 10.0
    ice_host: str = "127.0.0.1"
    log_level: str = "info"
    source: Path | None = field(default=None, compare=False)

    @property
    def bot_user_id(self) -> str:
        return f"@{self.app_service.sender_localpart}:{self.server_name}"


_LOG_LEVELS = ("debug", "info", "warning", "error")
_LOCALPART = re.compile(r"[a-z0-9._=/+-]+")
# Secrets shorter than this are guessable; generate writes 43 characters.
_MIN_SECRET = 16
# RFC 7518 §3.2: an HS256 key must be at least as long as the hash, 256 bits.
_MIN_JWT_SECRET = 32


class _Fields:
    """Reads typed values out of one YAML mapping, naming ``prefix.key`` in errors."""

    def __init__(self, data: dict[str, Any], source: str, prefix: str = "") -> None:
        self.data = data
        self.source = source
        self.prefix = prefix

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: `{self.prefix}{key}` {problem}")

    def section(self, key: str, *, required: bool = True) -> _Fields:
        value = self.data.get(key)
        if value is None and not required:
            value = {}
        if not isinstance(value, dict):
            raise self.fail(key, "must be a mapping" if key in self.data else "is required")
        return _Fields(value, self.source, f"{self.prefix}{key}.")

    def string(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise self.fail(key, "is required")
        if not isinstance(value, str) or not value:
            raise self.fail(key, "must be a non-empty string")
        return value

    def url(self, key: str, default: str | None = None) -> str:
        value = self.string(key, default)
        if not value.startswith(("http://", "https://")):
            raise self.fail(key, "must be a URL starting with http:// or https://")
        return value.rstrip("/")

    def secret(self, key: str, minimum: int = _MIN_SECRET) -> str:
        value = self.string(key)
        if len(value.encode()) < minimum:
            raise self.fail(key, f"must be at least {minimum} characters")
        return value

    def number(self, key: str, default: float, *, low: float, high: float) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, "must be a number")
        if not low <= value <= high:
            raise self.fail(key, f"must be between {low:g} and {high:g}")
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value


def parse_config(data: Any, source: str = "sfu config") -> SfuConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: must be a YAML mapping")
    top = _Fields(data, source)
    known = {
        "server_name", "homeserver_url", "listen", "public_url", "jwt", "app_service",
        "discovery", "media", "log_level",
    }  # fmt: skip
    for key in data:
        if key not in known:
            raise top.fail(str(key), "is not a known key")
    listen = top.section("listen", required=False)
    host = listen.string("host", "127.0.0.1")
    port = int(listen.number("port", 8090, low=0, high=65535))
    if listen.data.get("port", port) != port:
        raise listen.fail("port", "must be a whole number")
    jwt = top.section("jwt")
    app_service = top.section("app_service")
    localpart = app_service.string("sender_localpart", "sfu")
    if not _LOCALPART.fullmatch(localpart):
        raise app_service.fail("sender_localpart", "is not a valid user localpart")
    discovery = top.section("discovery", required=False)
    servers = discovery.data.get("servers") or {}
    if not isinstance(servers, dict):
        raise discovery.fail("servers", "must be a mapping of server name to base URL")
    server_map = {}
    for name, url in servers.items():
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise discovery.fail(f"servers.{name}", "must be a URL starting with http(s)://")
        server_map[str(name)] = url.rstrip("/")
    server_name = top.string("server_name")
    if not is_server_name(server_name):
        raise top.fail("server_name", "is not a valid server name (host or host:port)")
    media = top.section("media", required=False)
    log_level = top.string("log_level", "info")
    if log_level not in _LOG_LEVELS:
        raise top.fail("log_level", f"must be one of {', '.join(_LOG_LEVELS)}")
    return SfuConfig(
        server_name=server_name,
        homeserver_url=top.url("homeserver_url"),
        host=host,
        port=port,
        public_url=top.url("public_url", f"http://{host}:{port}"),
        jwt_secret=jwt.secret("secret", _MIN_JWT_SECRET),
        jwt_ttl_seconds=int(jwt.number("ttl_seconds", 300, low=10, high=86400)),
        app_service=AppServiceConfig(
            id=app_service.string("id", "concord-sfu"),
            as_token=app_service.secret("as_token"),
            hs_token=app_service.secret("hs_token"),
            sender_localpart=localpart,
        ),
        discovery=DiscoveryConfig(
            servers=server_map,
            verify_tls=discovery.boolean("verify_tls", True),
            allow_private_addresses=discovery.boolean("allow_private_addresses", False),
        ),
        drop_timeout_s=media.number("drop_timeout_s", 10.0, low=0.1, high=3600),
        ice_host=media.string("ice_host", "127.0.0.1"),
        log_level=log_level,
        source=Path(source) if source != "sfu config" else None,
    )


def load_config(path: Path) -> SfuConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the SFU config: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_config(data, str(path))
