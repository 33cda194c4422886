"""``python -m sfu generate``: first-run setup of the SFU beside a Concord homeserver.

Writes the SFU config (a random JWT secret, random ``as_token`` and ``hs_token``), the
application-service registration of its bot (users namespace: the bot alone, exclusive;
``url``: the SFU's listener), and lists that registration in the homeserver config's
``app_service_config_files`` so the homeserver pushes the bot's invites to the SFU
(spec: application-service API "Registration"). Nothing is overwritten.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

import yaml

from sfu.config import ConfigError, SfuConfig, load_config

REGISTRATION_NAME = "sfu-registration.yaml"
AS_FILES_KEY = "app_service_config_files"
CONCORD_KEY = "concord"


def registration_yaml(config: SfuConfig) -> str:
    host = "127.0.0.1" if config.host in ("0.0.0.0", "") else config.host
    host = f"[{host}]" if ":" in host else host
    data = {
        "id": config.app_service.id,
        "url": f"http://{host}:{config.port}",
        "as_token": config.app_service.as_token,
        "hs_token": config.app_service.hs_token,
        "sender_localpart": config.app_service.sender_localpart,
        "namespaces": {
            "users": [{"exclusive": True, "regex": "^" + re.escape(config.bot_user_id) + "$"}],
            "aliases": [],
            "rooms": [],
        },
        "rate_limited": False,
    }
    header = "# The Concord SFU bot's application-service registration (python -m sfu generate).\n"
    return header + yaml.safe_dump(data, sort_keys=False)


def _homeserver(hs_config: Path) -> tuple[dict[str, Any], str, str]:
    """(parsed config, server name, client API URL) of the homeserver config."""
    try:
        data = yaml.safe_load(hs_config.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{hs_config}: cannot read the homeserver config: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("server_name"), str):
        raise ConfigError(f"{hs_config}: `server_name` is required")
    client = (data.get("listeners") or {}).get("client") or {}
    host = str(client.get("host", "127.0.0.1"))
    host = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    host = f"[{host}]" if ":" in host else host
    port = client.get("port", 8008)
    return data, data["server_name"], f"http://{host}:{port}"


def sfu_config_yaml(
    server_name: str, homeserver_url: str, host: str, port: int, public_url: str
) -> str:
    data = {
        "server_name": server_name,
        "homeserver_url": homeserver_url,
        "listen": {"host": host, "port": port},
        "public_url": public_url,
        "jwt": {"secret": secrets.token_urlsafe(32), "ttl_seconds": 300},
        "app_service": {
            "id": "concord-sfu",
            "as_token": secrets.token_urlsafe(32),
            "hs_token": secrets.token_urlsafe(32),
            "sender_localpart": "sfu",
        },
        "discovery": {"servers": {}, "verify_tls": True, "allow_private_addresses": False},
        "media": {"drop_timeout_s": 10, "ice_host": "127.0.0.1"},
        "log_level": "info",
    }
    header = (
        "# Concord SFU configuration, written by `python -m sfu generate`.\n"
        "# public_url is how browsers reach the SFU; discovery.servers maps a server name\n"
        "# to its federation base URL where server discovery cannot find it.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False)


def generate(
    config_path: Path,
    hs_config: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8090,
    public_url: str | None = None,
) -> list[str]:
    """Writes what is missing; returns a line per file written or changed."""
    done = []
    data, server_name, homeserver_url = _homeserver(hs_config)
    if not config_path.exists():
        config_path.parent.mkdir(parents=True, exist_ok=True)
        shown = f"[{host}]" if ":" in host else host
        text = sfu_config_yaml(
            server_name, homeserver_url, host, port, public_url or f"http://{shown}:{port}"
        )
        config_path.write_text(text, encoding="utf-8")
        os.chmod(config_path, 0o600)  # it holds the secrets
        done.append(f"wrote the SFU config {config_path}")
    config = load_config(config_path)  # validates what we wrote, or what was there
    if config.server_name != server_name:
        raise ConfigError(
            f"{config_path}: `server_name` is {config.server_name!r} but the homeserver"
            f" config {hs_config} says {server_name!r}"
        )
    registration = config_path.parent / REGISTRATION_NAME
    if not registration.exists():
        registration.write_text(registration_yaml(config), encoding="utf-8")
        os.chmod(registration, 0o600)
        done.append(f"wrote the bot's application-service registration {registration}")
    listed = os.path.relpath(registration.resolve(), hs_config.parent.resolve())
    files = data.get(AS_FILES_KEY)
    if files is None:
        # Appended, not re-dumped: the homeserver config keeps its comments.
        with hs_config.open("a", encoding="utf-8") as out:
            out.write(
                "\n# Added by `python -m sfu generate`: the voice server (SFU) bot.\n"
                f"{AS_FILES_KEY}: [{json.dumps(listed)}]\n"
            )
        done.append(f"listed {listed} in {AS_FILES_KEY} of {hs_config}")
    elif not isinstance(files, list) or not any(
        (hs_config.parent / str(f)).resolve() == registration.resolve() for f in files
    ):
        raise ConfigError(
            f"{hs_config}: add {listed!r} to `{AS_FILES_KEY}` so the homeserver knows the SFU"
        )
    done += _announce_to_guilds(hs_config, data.get(CONCORD_KEY), config)
    return done


def _announce_to_guilds(hs_config: Path, section: Any, config: SfuConfig) -> list[str]:
    """The homeserver's ``concord`` section names the bot (the steward invites it into
    every voice channel) and the SFU's URL (announced in ``/.well-known/matrix/client``)."""
    wanted = {"sfu_user_id": config.bot_user_id, "sfu_url": config.public_url}
    if section is None:
        lines = "".join(f"  {key}: {json.dumps(value)}\n" for key, value in wanted.items())
        with hs_config.open("a", encoding="utf-8") as out:
            out.write(
                "\n# Added by `python -m sfu generate`: voice channels get the SFU's bot,\n"
                f"# clients find the SFU in /.well-known/matrix/client.\n{CONCORD_KEY}:\n{lines}"
            )
        return [f"set {CONCORD_KEY}.sfu_user_id and {CONCORD_KEY}.sfu_url in {hs_config}"]
    missing = [
        f"{key}: {json.dumps(value)}"
        for key, value in wanted.items()
        if not isinstance(section, dict) or section.get(key) != value
    ]
    if missing:
        raise ConfigError(f"{hs_config}: set {', '.join(missing)} under `{CONCORD_KEY}`")
    return []
