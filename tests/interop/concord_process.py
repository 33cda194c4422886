"""Concord as a federation peer: the real server process (tests/integration/server_process.py)
with a TLS federation listener, server name ``localhost:<fed_port>`` and the loopback
federation settings of the brief (certificates not verified, loopback allowed, peers
reached through ``server_overrides``, federation confined to the session's servers).

Both ports are fixed when the config is written, so a restart serves the same name and URLs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tests.integration.server_process import ConcordServer

from .processes import LOOPBACK, self_signed_certificate


class FederatedConcord(ConcordServer):
    kind = "concord"

    def __init__(
        self,
        workdir: Path,
        *,
        fed_port: int,
        client_port: int,
        federation_domains: Sequence[str],
        cert_dir: Path | None = None,
        engine: str = "sqlite",
        dsn: str | None = None,
        log_level: str = "info",
    ) -> None:
        self.fed_port = fed_port
        self.client_port = client_port
        self.server_name = f"localhost:{fed_port}"
        self.client_url = f"http://{LOOPBACK}:{client_port}"
        cert, key = self_signed_certificate(cert_dir or workdir)
        overrides = {
            name: f"{LOOPBACK}:{name.rsplit(':', 1)[1]}"
            for name in federation_domains
            if name != self.server_name
        }
        super().__init__(
            workdir,
            engine=engine,
            dsn=dsn,
            log_level=log_level,
            extra_config={
                "server_name": self.server_name,
                "listeners": {
                    "client": {"host": LOOPBACK, "port": client_port},
                    "federation": {
                        "host": LOOPBACK,
                        "port": fed_port,
                        "tls_certificate": str(cert),
                        "tls_private_key": str(key),
                    },
                },
                "federation": {
                    "enabled": True,
                    "domain_whitelist": list(federation_domains),
                    "verify_certificates": False,
                    "ip_range_whitelist": ["127.0.0.0/8", "::1/128"],
                    "server_overrides": overrides,
                },
            },
        )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _wait_for_url(self, out_path: Path, deadline: float) -> str:
        # The client port is fixed (two listeners print two URLs; the client one is known).
        return self.client_url

    def log_excerpt(self, lines: int = 40) -> str:
        return f"{self.log_path}:\n{self.log_tail(lines)}"

    def describe(self) -> str:
        return f"Concord {self.server_name} (client {self.client_url}, data {self.workdir})"
