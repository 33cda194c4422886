"""The ``concord`` command: ``run``, ``generate-config``, ``register-user``.

``python -m homeserver run --config data/config.yaml`` serves; ``generate-config``
writes a config and a fresh ed25519 signing key for a new server; ``register-user``
creates an account (registration may be closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import ssl
import sys
from pathlib import Path

from homeserver.cli_args import Command, Option, UsageError, parse, usage
from homeserver.config import Config, ConfigError, load_config
from homeserver.keyfile import KeyFileError, load_signing_key, write_new_signing_key
from homeserver.logs import fields, setup_logging
from homeserver.storage.database import DatabaseError
from homeserver.storage.open import open_database

log = logging.getLogger("homeserver")

DEFAULT_CONFIG = "data/config.yaml"

CONFIG_TEMPLATE = """\
# Concord homeserver configuration, written by `concord generate-config`.
# Every key is documented in config.yaml at the root of the Concord repository.
# Relative paths are relative to this file's directory.

server_name: "{server_name}"

listeners:
  client:
    host: "{host}"
    port: {port}
  # The federation API over HTTPS. The certificate written with this config is
  # self-signed: peers verifying certificates need one from a known authority.
  federation:
    host: "{host}"
    port: {federation_port}
    tls_certificate: "tls.crt"
    tls_private_key: "tls.key"

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


def generate_config(
    config_path: Path,
    server_name: str,
    host: str,
    port: int,
    federation_port: int | None = None,
) -> None:
    """Write a config, a signing key and a self-signed certificate for the federation
    listener (on 8448 by default; on a free port, like the client's, when ``port`` is 0)."""
    if config_path.exists():
        raise ConfigError(f"{config_path}: already exists; refusing to overwrite it")
    if federation_port is None:
        federation_port = 0 if port == 0 else 8448
    config_path.parent.mkdir(parents=True, exist_ok=True)
    text = CONFIG_TEMPLATE.format(
        server_name=server_name, host=host, port=port, federation_port=federation_port
    )
    config_path.write_text(text, encoding="utf-8")
    config = load_config(config_path)  # validates what we wrote
    if not config.signing_key_path.exists():
        write_new_signing_key(config.signing_key_path, config.server_name)
    written = f"Wrote {config_path} and signing key {config.signing_key_path}"
    tls = config.federation_listener
    if tls is not None and not tls.tls_certificate.exists():
        from homeserver.tls_files import write_self_signed

        write_self_signed(tls.tls_certificate, tls.tls_private_key, server_name)
        written += f" and a self-signed TLS certificate {tls.tls_certificate}"
    print(written)


def _federation_tls(config: Config) -> ssl.SSLContext | None:
    listener = config.federation_listener
    if listener is None:
        return None
    from homeserver.tls_files import server_context

    try:
        return server_context(listener.tls_certificate, listener.tls_private_key)
    except OSError as exc:  # ssl.SSLError included
        where = config.source or "config"
        raise ConfigError(
            f"{where}: `listeners.federation`: cannot load the TLS certificate"
            f" {listener.tls_certificate} and key {listener.tls_private_key}: {exc}"
        ) from None


async def serve(config: Config) -> None:
    from homeserver.app import build_app, check_config
    from homeserver.http.server import Server

    check_config(config)
    signing_key = load_signing_key(config.signing_key_path, config.server_name)
    tls = _federation_tls(config)
    db = open_database(config.database)
    app = build_app(config, signing_key, db)
    listener = config.client_listener
    server = Server(app, listener.host, listener.port, shutdown_timeout=10)
    await server.start()
    port = server.port
    host = listener.host if ":" not in listener.host else f"[{listener.host}]"
    url = f"http://{host}:{port}/"
    log.info("listening", extra=fields(url=url, server_name=config.server_name))
    fed = config.federation_listener
    if fed is not None and tls is not None:
        try:
            fed_port = await server.listen(fed.host, fed.port, ssl=tls)
        except OSError:
            await server.stop()
            raise
        fed_host = fed.host if ":" not in fed.host else f"[{fed.host}]"
        log.info("federation listening", extra=fields(url=f"https://{fed_host}:{fed_port}/"))
    print(f"Concord is running as {config.server_name}: open {url}", flush=True)
    if not config.enable_registration and not config.registration_tokens:
        # A first-time host opening the URL would otherwise meet "Registration is disabled".
        print(
            "Registration is closed: create an account with `concord register-user"
            f" --config {config.source or DEFAULT_CONFIG} NAME` (or set enable_registration"
            " / registration_tokens)",
            flush=True,
        )

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


COMMANDS = (
    Command(
        "run", "serve the homeserver", (Option("--config", "the config file", DEFAULT_CONFIG),)
    ),
    Command(
        "generate-config",
        "write a config and a signing key",
        (
            Option("--config", "where to write the config", DEFAULT_CONFIG),
            Option("--server-name", "the server name", "localhost:8008"),
            Option("--host", "the address to listen on", "127.0.0.1"),
            Option("--port", "the port to listen on", "8008"),
            Option(
                "--federation-port",
                "the HTTPS federation port (default 8448; 0 when --port is 0)",
            ),
        ),
    ),
    Command(
        "register-user",
        "create an account",
        (
            Option("--config", "the config file", DEFAULT_CONFIG),
            Option("--password", "the password (asked for when omitted)"),
            Option("--admin", "make the user a server admin", flag=True),
        ),
        (("username", "the localpart of the new user id"),),
    ),
)


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse(COMMANDS, sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        print(f"{usage('concord', COMMANDS)}\n\nerror: {exc}", file=sys.stderr)
        return 2
    if args.command == "help":
        print(usage("concord", COMMANDS))
        return 0
    config_path = Path(args.text("config") or DEFAULT_CONFIG)
    try:
        if args.command == "generate-config":
            port_text = args.text("port") or ""
            if not port_text.isdigit() or int(port_text) > 65535:
                print(f"error: --port must be a port number, not {port_text!r}", file=sys.stderr)
                return 2
            fed_text = args.text("federation_port")
            if fed_text is not None and (not fed_text.isdigit() or int(fed_text) > 65535):
                print(
                    f"error: --federation-port must be a port number, not {fed_text!r}",
                    file=sys.stderr,
                )
                return 2
            server_name = args.text("server_name") or "localhost:8008"
            host = args.text("host") or "127.0.0.1"
            generate_config(
                config_path,
                server_name,
                host,
                int(port_text),
                None if fed_text is None else int(fed_text),
            )
            return 0
        config = load_config(config_path)
        if args.command == "register-user":
            username = args.text("username") or ""
            return register_user(config, username, args.text("password"), args.flag("admin"))
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
