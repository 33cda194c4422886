"""A second homeserver for the browser tests, federating with the ``stack``'s: users of
another server in the same guild and voice channel (issue 10: "a Concord user on one
server and a user from another server both use it"). It has no SFU of its own: its users
reach the guild's SFU, which verifies their OpenID tokens with their server.

Its server name is an IP literal with the federation port (``127.0.0.1:<port>``), so the
first server and the SFU reach it without any discovery configuration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.waiting import free_port

from .build import ensure_web_built
from .harness import Stack, _configure, _run, _stop, _wait_http


@contextmanager
def running_remote(
    directory: Path, home: Stack, database_dsn: str | None = None
) -> Iterator[Stack]:
    port, fed_port = free_port(), free_port()
    server_name = f"127.0.0.1:{fed_port}"
    config = directory / "config.yaml"
    _run(
        ["-m", "homeserver", "generate-config", "--config", str(config), "--server-name",
         server_name, "--port", str(port), "--federation-port", str(fed_port)],
        directory,
    )  # fmt: skip
    peers = {home.server_name: f"127.0.0.1:{home.federation_port}"}
    _configure(config, database_dsn, ensure_web_built(), peers)
    remote = Stack(
        base_url=f"http://127.0.0.1:{port}",
        server_name=server_name,
        sfu_url="",
        directory=directory,
        federation_port=fed_port,
    )
    try:
        proc = remote.start("homeserver", ["-m", "homeserver", "run", "--config", str(config)])
        try:
            _wait_http(remote.base_url + "/_matrix/client/versions", proc, "the second homeserver")
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{remote.logs()}") from None
        yield remote
    finally:
        for p in reversed(remote.processes):
            _stop(p)
