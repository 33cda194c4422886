"""Typed loading of ``config.yaml`` with errors that name the offending key.

The file format is documented in the commented sample ``config.yaml`` at the
repository root; ``python -m homeserver generate-config`` writes a real one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from homeserver.config_concord import ConcordConfig, parse_concord
from homeserver.config_federation import (
    FederationConfig,
    TlsListener,
    TrustedKeyServer,
    parse_federation,
    parse_tls_listener,
)
from homeserver.protocol.errors import InvalidIdentifier
from homeserver.protocol.ids import parse_server_name

__all__ = [
    "ConcordConfig",
    "Config",
    "ConfigError",
    "DatabaseConfig",
    "FederationConfig",
    "JwtConfig",
    "Listener",
    "RateLimitConfig",
    "TlsListener",
    "TrustedKeyServer",
    "load_config",
    "parse_config",
    "read_yaml_file",
]


class ConfigError(Exception):
    """The configuration is unusable; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Listener:
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    engine: str  # "sqlite" or "postgres"
    path: Path | None = None  # sqlite
    dsn: str | None = None  # postgres


@dataclass(frozen=True, slots=True)
class JwtConfig:
    """``org.matrix.login.jwt``: log in (and create the account) with a signed JWT."""

    enabled: bool = False
    secret: str = ""
    algorithm: str = "HS256"
    subject_claim: str = "sub"
    issuer: str | None = None
    audiences: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RateLimitConfig:
    """Token buckets: mutating client requests per user, login/registration per IP."""

    enabled: bool = True
    actions_per_second: float = 10.0
    actions_burst: int = 50
    account_per_second: float = 0.5
    account_burst: int = 10


@dataclass(frozen=True, slots=True)
class Config:
    server_name: str
    client_listener: Listener
    data_dir: Path
    signing_key_path: Path
    database: DatabaseConfig
    public_baseurl: str
    enable_registration: bool = False
    registration_tokens: tuple[str, ...] = ()
    # How long the published signing key is valid; peers re-fetch after it.
    key_valid_for_ms: int = 24 * 3600 * 1000
    log_level: str = "info"
    jwt: JwtConfig = field(default_factory=JwtConfig)
    # bcrypt cost of stored password hashes (2**rounds iterations).
    bcrypt_rounds: int = 12
    # Lifetime of access tokens issued to clients that asked for a refresh token.
    refreshable_access_token_lifetime_ms: int = 5 * 60 * 1000
    rate_limits: RateLimitConfig = field(default_factory=RateLimitConfig)
    # Largest request body outside media uploads (JSON); larger ones get 413 M_TOO_LARGE.
    max_request_body_bytes: int = 1024 * 1024
    # Media repository (spec: client-server "Content repository"). None: <data_dir>/media.
    media_store_path: Path | None = None
    max_upload_size: int = 50 * 1024 * 1024
    # Images with more pixels than this (per frame) are refused, and never thumbnailed.
    max_image_pixels: int = 32_000_000
    # The HTTPS listener of the federation API; None: not served over TLS.
    federation_listener: TlsListener | None = None
    federation: FederationConfig = field(default_factory=FederationConfig)
    # Application service registration files (spec: application-service-api "Registration").
    app_service_config_files: tuple[Path, ...] = ()
    concord: ConcordConfig = field(default_factory=ConcordConfig)
    # The built web client served at / (web_client.py); None: not served.
    web_client_dir: Path | None = None
    source: Path | None = field(default=None, compare=False)


_LOG_LEVELS = ("debug", "info", "warning", "error")
# What pyjwt verifies; "none" is deliberately absent.
_JWT_ALGORITHMS = (
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
    "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA",
)  # fmt: skip


class _Reader:
    """Walks the YAML tree and reports errors by dotted key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: `{key}` {message}")

    def section(self, data: dict[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key.rsplit(".", 1)[-1], {})
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "must be a mapping")
        return value

    def string(self, data: dict[str, Any], key: str, default: str | None = None) -> str:
        value = data.get(key.rsplit(".", 1)[-1], default)
        if value is None:
            raise self.fail(key, "is required")
        if not isinstance(value, str) or not value:
            raise self.fail(key, "must be a non-empty string")
        return value

    def boolean(self, data: dict[str, Any], key: str, default: bool) -> bool:
        value = data.get(key.rsplit(".", 1)[-1], default)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def number(self, data: dict[str, Any], key: str, default: float) -> float:
        value = data.get(key.rsplit(".", 1)[-1], default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise self.fail(key, "must be a positive number")
        return float(value)

    def integer(self, data: dict[str, Any], key: str, default: int, lo: int, hi: int) -> int:
        value = data.get(key.rsplit(".", 1)[-1], default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.fail(key, f"must be an integer from {lo} to {hi}")
        return value


def parse_config(data: object, *, source: str = "config.yaml", base_dir: Path) -> Config:
    """Validate the parsed YAML ``data``; relative paths are taken from ``base_dir``."""
    r = _Reader(source)
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys")
    known = {
        "server_name",
        "listeners",
        "data_dir",
        "signing_key_path",
        "database",
        "public_baseurl",
        "enable_registration",
        "registration_tokens",
        "key_valid_for_ms",
        "log_level",
        "jwt",
        "bcrypt_rounds",
        "refreshable_access_token_lifetime_ms",
        "rate_limits",
        "max_request_body_bytes",
        "media_store_path",
        "max_upload_size",
        "max_image_pixels",
        "federation",
        "app_service_config_files",
        "concord",
        "web_client_dir",
    }
    for key in data:
        if key not in known:
            raise r.fail(str(key), "is not a known setting")

    server_name = r.string(data, "server_name")
    try:
        parse_server_name(server_name)
    except InvalidIdentifier as exc:
        raise r.fail("server_name", f"is not a valid server name: {exc}") from exc

    listeners = r.section(data, "listeners")
    for key in listeners:
        if key not in ("client", "federation"):
            raise r.fail(f"listeners.{key}", "is not a known listener (client, federation)")
    client = r.section(listeners, "listeners.client")
    host = r.string(client, "listeners.client.host", "127.0.0.1")
    try:
        ipaddress.ip_address(host)
    except ValueError as exc:
        raise r.fail("listeners.client.host", "must be an IP address") from exc
    port = r.integer(client, "listeners.client.port", 8008, 0, 65535)

    data_dir = base_dir / r.string(data, "data_dir", "data")
    signing_key_path = base_dir / r.string(data, "signing_key_path", str(data_dir / "signing.key"))

    db = r.section(data, "database")
    engine = r.string(db, "database.engine", "sqlite")
    if engine == "sqlite":
        database = DatabaseConfig(
            engine="sqlite",
            path=base_dir / r.string(db, "database.path", str(data_dir / "concord.db")),
        )
    elif engine == "postgres":
        database = DatabaseConfig(engine="postgres", dsn=r.string(db, "database.dsn"))
    else:
        raise r.fail("database.engine", "must be `sqlite` or `postgres`")

    default_url = f"http://{host if ':' not in host else f'[{host}]'}:{port}/"
    public_baseurl = r.string(data, "public_baseurl", default_url)
    if not public_baseurl.startswith(("http://", "https://")):
        raise r.fail("public_baseurl", "must start with http:// or https://")

    tokens = data.get("registration_tokens", [])
    if not isinstance(tokens, list) or not all(isinstance(t, str) and t for t in tokens):
        raise r.fail("registration_tokens", "must be a list of non-empty strings")

    log_level = r.string(data, "log_level", "info").lower()
    if log_level not in _LOG_LEVELS:
        raise r.fail("log_level", f"must be one of {', '.join(_LOG_LEVELS)}")

    jwt = _parse_jwt(r, r.section(data, "jwt"))

    as_files = data.get("app_service_config_files", [])
    if as_files is None:
        as_files = []
    if not isinstance(as_files, list) or not all(isinstance(f, str) and f for f in as_files):
        raise r.fail("app_service_config_files", "must be a list of file paths")

    return Config(
        server_name=server_name,
        client_listener=Listener(host=host, port=port),
        data_dir=data_dir,
        signing_key_path=signing_key_path,
        database=database,
        public_baseurl=public_baseurl.rstrip("/") + "/",
        enable_registration=r.boolean(data, "enable_registration", False),
        registration_tokens=tuple(tokens),
        key_valid_for_ms=r.integer(
            data, "key_valid_for_ms", 24 * 3600 * 1000, 60_000, 365 * 24 * 3600 * 1000
        ),
        log_level=log_level,
        jwt=jwt,
        bcrypt_rounds=r.integer(data, "bcrypt_rounds", 12, 4, 31),
        refreshable_access_token_lifetime_ms=r.integer(
            data, "refreshable_access_token_lifetime_ms", 5 * 60 * 1000, 1000, 7 * 24 * 3600 * 1000
        ),
        rate_limits=_parse_rate_limits(r, r.section(data, "rate_limits")),
        max_request_body_bytes=r.integer(
            data, "max_request_body_bytes", 1024 * 1024, 65536, 1024 * 1024 * 1024
        ),
        media_store_path=base_dir / r.string(data, "media_store_path", str(data_dir / "media")),
        max_upload_size=r.integer(
            data, "max_upload_size", 50 * 1024 * 1024, 1024, 1024 * 1024 * 1024
        ),
        max_image_pixels=r.integer(data, "max_image_pixels", 32_000_000, 1, 1_000_000_000),
        federation_listener=parse_tls_listener(
            r, r.section(listeners, "listeners.federation"), base_dir
        ),
        federation=parse_federation(r, r.section(data, "federation")),
        app_service_config_files=tuple(base_dir / f for f in as_files),
        concord=parse_concord(r, r.section(data, "concord"), server_name),
        web_client_dir=_web_client_dir(
            r.string(data, "web_client_dir") if "web_client_dir" in data else None, base_dir
        ),
        source=Path(source),
    )


def _web_client_dir(value: str | None, base_dir: Path) -> Path | None:
    """The configured directory; unset: the checkout's web/dist (built by ``make run``)
    when the server runs from a source tree with a web/ client, else none."""
    if value:
        return base_dir / value
    web = Path(__file__).resolve().parent.parent / "web"
    return web / "dist" if (web / "package.json").is_file() else None


def _parse_rate_limits(r: _Reader, section: dict[str, Any]) -> RateLimitConfig:
    known = {f.name for f in fields(RateLimitConfig)}
    for key in section:
        if key not in known:
            raise r.fail(f"rate_limits.{key}", "is not a known setting")
    return RateLimitConfig(
        enabled=r.boolean(section, "rate_limits.enabled", True),
        actions_per_second=r.number(section, "rate_limits.actions_per_second", 10.0),
        actions_burst=r.integer(section, "rate_limits.actions_burst", 50, 1, 1_000_000),
        account_per_second=r.number(section, "rate_limits.account_per_second", 0.5),
        account_burst=r.integer(section, "rate_limits.account_burst", 10, 1, 1_000_000),
    )


def _parse_jwt(r: _Reader, jwt: dict[str, Any]) -> JwtConfig:
    known = {"enabled", "secret", "algorithm", "subject_claim", "issuer", "audiences"}
    for key in jwt:
        if key not in known:
            raise r.fail(f"jwt.{key}", "is not a known setting")
    enabled = r.boolean(jwt, "jwt.enabled", False)
    if not enabled:
        return JwtConfig()
    algorithm = r.string(jwt, "jwt.algorithm", "HS256")
    if algorithm not in _JWT_ALGORITHMS:
        raise r.fail("jwt.algorithm", f"must be one of {', '.join(_JWT_ALGORITHMS)}")
    issuer = jwt.get("issuer")
    if issuer is not None and (not isinstance(issuer, str) or not issuer):
        raise r.fail("jwt.issuer", "must be a non-empty string")
    audiences = jwt.get("audiences", [])
    if audiences is None:
        audiences = []
    if not isinstance(audiences, list) or not all(isinstance(a, str) and a for a in audiences):
        raise r.fail("jwt.audiences", "must be a list of non-empty strings")
    return JwtConfig(
        enabled=True,
        secret=r.string(jwt, "jwt.secret"),
        algorithm=algorithm,
        subject_claim=r.string(jwt, "jwt.subject_claim", "sub"),
        issuer=issuer,
        audiences=tuple(audiences),
    )


def load_config(path: Path) -> Config:
    """Read and validate a config file; every failure is one ``ConfigError`` line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from exc
    data = _parse_yaml(text, path)
    return parse_config(data, source=str(path), base_dir=path.parent.resolve())


def read_yaml_file(path: Path, what: str) -> Any:
    """The YAML document in ``path`` (``what`` names it in errors); one ``ConfigError``
    line on failure."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {exc.strerror}") from exc
    return _parse_yaml(text, path)


def _parse_yaml(text: str, path: Path) -> Any:
    """The YAML document; PyYAML is unloaded again afterwards: a running server never
    reads YAML, and its modules are a few hundred kB it would otherwise keep."""
    import sys

    loaded_before = "yaml" in sys.modules
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    finally:
        if not loaded_before:
            for name in [m for m in sys.modules if m == "yaml" or m.startswith("yaml.")]:
                del sys.modules[name]
