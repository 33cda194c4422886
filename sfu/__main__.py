"""``python -m sfu``: the voice server, its own process beside the homeserver.

    python -m sfu run --config data/sfu.yaml
    python -m sfu generate --config data/sfu.yaml --homeserver-config data/config.yaml

``generate`` writes what a first run needs (see ``sfu/generate.py``); ``run`` serves until
SIGINT or SIGTERM, then stops: WebSockets closed, the bot's presence of this run cleared by
the media half as sessions end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
import sys
from pathlib import Path

from aiohttp import web

from sfu.app import build_app
from sfu.config import ConfigError, SfuConfig, load_config
from sfu.generate import generate

log = logging.getLogger("sfu")

DEFAULT_CONFIG = "data/sfu.yaml"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sfu", description="Concord's voice server")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve")
    run.add_argument("--config", default=DEFAULT_CONFIG, help="the SFU config file")
    gen = commands.add_parser("generate", help="write a config and the bot's registration")
    gen.add_argument("--config", default=DEFAULT_CONFIG, help="where to write the SFU config")
    gen.add_argument(
        "--homeserver-config", default="data/config.yaml", help="the homeserver's config.yaml"
    )
    gen.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    gen.add_argument("--port", type=int, default=8090, help="the port to listen on")
    gen.add_argument("--public-url", help="how clients reach the SFU (default: http://host:port)")
    return parser


async def serve(config: SfuConfig) -> None:
    runner = web.AppRunner(build_app(config), handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, config.host, config.port)
        await site.start()
        log.info("listening host=%s port=%d", config.host, config.port)
        # Everything loaded so far (aiortc, av, the app) lives as long as the process:
        # out of the collector's sight, full collections stop walking it, which cut the
        # longest pause of the forwarding loop (benchmarks/bench_sfu.py reports it).
        gc.freeze()
        print(
            f"Concord SFU is running: {config.public_url} (bot {config.bot_user_id},"
            f" homeserver {config.homeserver_url})",
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("shutting down")
    finally:
        await runner.cleanup()
        log.info("stopped")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config_path = Path(args.config)
    try:
        if args.command == "generate":
            if not 0 < args.port < 65536:
                print(f"error: --port must be a port number, not {args.port}", file=sys.stderr)
                return 2
            for line in generate(
                config_path,
                Path(args.homeserver_config),
                host=args.host,
                port=args.port,
                public_url=args.public_url,
            ):
                print(line)
            return 0
        config = load_config(config_path)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=config.log_level.upper(),
        # One line per event, key=value, like the homeserver's logs.
        format="ts=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s",
    )
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(config))
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
