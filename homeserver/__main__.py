"""The ``concord`` command: ``run``, ``generate-config``, ``register-user``.

``python -m homeserver run --config data/config.yaml`` serves; ``generate-config``
writes a config and a fresh ed25519 signing key for a new server; ``register-user``
creates an account (registration may be closed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from homeserver.config import Config, ConfigError, load_config
from homeserver.keyfile import KeyFileError, load_signing_key, write_new_signing_key
from homeserver.logs import fields, setup_logging
from homeserver.storage.database import DatabaseError
from homeserver.storage.open import open_database

log = logging.getLogger("homeserver")

CONFIG_TEMPLATE = """\
# Concord homeserver configuration, written by `concord generate-config`.
# Every key is documented in config.yaml at the root of the Concord repository.
# Relative paths are relative to this file's directory.

server_name: "{server_name}"

listeners:
  client:
    host: "{host}"
    port: {port}

data_dir: "."
signing_key_path: "signing.key"

database:
  engine: sqlite
  path: "concord.db"
  # engine: postgres
  # dsn: "postgresql://user@127.0.0.1:5432/concord"

enable_registration: false
registration_tokens: []
log_level: info
"""


def generate_config(config_path: Path, server_name: str, host: str, port: int) -> None:
    if config_path.exists():
        raise ConfigError(f"{config_path}: already exists; refusing to overwrite it")
    config_path.parent.mkdir(parents=True, exist_ok=True)
    text = CONFIG_TEMPLATE.format(server_name=server_name, host=host, port=port)
    config_path.write_text(text, encoding="utf-8")
    config = load_config(config_path)  # validates what we wrote
    if not config.signing_key_path.exists():
        write_new_signing_key(config.signing_key_path, config.server_name)
    print(f"Wrote {config_path} and signing key {config.signing_key_path}")


async def serve(config: Config) -> None:
    from homeserver.app import build_app
    from homeserver.http.server import Server

    signing_key = load_signing_key(config.signing_key_path, config.server_name)
    db = open_database(config.database)
    app = build_app(config, signing_key, db)
    listener = config.client_listener
    server = Server(app, listener.host, listener.port, shutdown_timeout=10)
    await server.start()
    port = server.port
    host = listener.host if ":" not in listener.host else f"[{listener.host}]"
    url = f"http://{host}:{port}/"
    log.info("listening", extra=fields(url=url, server_name=config.server_name))
    print(f"Concord is running as {config.server_name}: open {url}", flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        # Draining: stops accepting, lets in-flight requests finish, runs cleanup hooks.
        await server.stop()
        log.info("stopped")


def register_user(config: Config, username: str, password: str | None, admin: bool) -> int:
    from homeserver.accounts.admin import create_account
    from homeserver.accounts.passwords import PasswordHasher
    from homeserver.clock import SystemClock
    from homeserver.errors import MatrixError
    from homeserver.storage.accounts_store import AccountsStore

    if password is None:
        import getpass  # only here: it brings termios into every server process

        password = getpass.getpass("Password: ")
        if getpass.getpass("Confirm password: ") != password:
            print("error: the passwords do not match", file=sys.stderr)
            return 1

    async def create() -> str:
        db = open_database(config.database)
        try:
            user = await create_account(
                AccountsStore(db),
                PasswordHasher(config.bcrypt_rounds),
                SystemClock(),
                config.server_name,
                username,
                password,
                admin=admin,
            )
        finally:
            await db.close()
        return user.user_id

    try:
        user_id = asyncio.run(create())
    except MatrixError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(f"Registered {user_id}{' as an admin' if admin else ''}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="concord", description="Concord homeserver")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="serve the homeserver")
    run.add_argument("--config", type=Path, default=Path("data/config.yaml"))
    gen = sub.add_parser("generate-config", help="write a config and a signing key")
    gen.add_argument("--config", type=Path, default=Path("data/config.yaml"))
    gen.add_argument("--server-name", default="localhost:8008")
    gen.add_argument("--host", default="127.0.0.1")
    gen.add_argument("--port", type=int, default=8008)
    reg = sub.add_parser("register-user", help="create an account")
    reg.add_argument("--config", type=Path, default=Path("data/config.yaml"))
    reg.add_argument("username", help="the localpart of the new user id")
    reg.add_argument("--password", help="the password (asked for when omitted)")
    reg.add_argument("--admin", action="store_true", help="make the user a server admin")
    args = parser.parse_args(argv)

    try:
        if args.command == "generate-config":
            generate_config(args.config, args.server_name, args.host, args.port)
            return 0
        config = load_config(args.config)
        if args.command == "register-user":
            return register_user(config, args.username, args.password, args.admin)
        setup_logging(config.log_level)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(config))
        return 0
    except (ConfigError, KeyFileError, DatabaseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
