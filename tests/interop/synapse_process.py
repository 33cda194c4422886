"""The reference Synapse as a federation peer on loopback, for the interop tests and the
federation join benchmark.

    synapse = SynapseServer(workdir, fed_port=..., client_port=..., federation_domains=[...])
    synapse.start()      # ~3 s; server name "localhost:<fed_port>"
    ... synapse.client_url ...
    synapse.stop()       # by pid; start() again serves the same data

Synapse comes from its own venv (``make synapse`` makes ``.venv-synapse``; or set
``SYNAPSE_PYTHON``). The config is ``synapse/homeserver.yaml.tmpl``: TLS federation listener
with a self-signed certificate, a plain client listener, open registration, no rate limits,
loopback allowed and federation confined to ``federation_domains``.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from .processes import LOOPBACK, PeerError, self_signed_certificate, stop_process, tail
from .processes import wait_for_health as _wait_for_health

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent / "synapse"
SYNAPSE_VERSION = "1.163.2"


def synapse_python() -> Path | None:
    """The python of the Synapse venv, or None when it is not installed."""
    configured = os.environ.get("SYNAPSE_PYTHON")
    python = Path(configured) if configured else REPO / ".venv-synapse" / "bin" / "python"
    return python if python.exists() else None


class SynapseServer:
    kind = "synapse"

    def __init__(
        self,
        workdir: Path,
        *,
        fed_port: int,
        client_port: int,
        federation_domains: Sequence[str],
        python: Path | None = None,
        appservice_files: Sequence[Path] = (),
        cert_dir: Path | None = None,
    ) -> None:
        found = python or synapse_python()
        if found is None:
            raise PeerError("Synapse is not installed: run `make synapse`")
        self.python = found
        self.workdir = workdir
        self.fed_port = fed_port
        self.client_port = client_port
        self.server_name = f"localhost:{fed_port}"
        self.client_url = f"http://{LOOPBACK}:{client_port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self._starts = 0
        workdir.mkdir(parents=True, exist_ok=True)
        cert, key = self_signed_certificate(cert_dir or workdir)
        self.config_path = workdir / "homeserver.yaml"
        values = {
            "@SERVER_NAME@": self.server_name,
            "@FED_PORT@": str(fed_port),
            "@CLIENT_PORT@": str(client_port),
            "@DATA_DIR@": str(workdir),
            "@TLS_CERT@": str(cert),
            "@TLS_KEY@": str(key),
            "@FED_DOMAINS@": json.dumps(list(federation_domains)),
            "@AS_FILES@": json.dumps([str(p) for p in appservice_files]),
        }
        for template, target in (
            ("homeserver.yaml.tmpl", self.config_path),
            ("log_config.yaml.tmpl", workdir / "log_config.yaml"),
        ):
            text = (HERE / template).read_text(encoding="utf-8")
            for placeholder, value in values.items():
                text = text.replace(placeholder, value)
            target.write_text(text, encoding="utf-8")
        signing_key = workdir / "signing.key"
        if not signing_key.exists():
            # Synapse's key file: "ed25519 <version> <unpadded base64 seed>" (what
            # --generate-keys writes, without paying for a second Synapse start).
            seed = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
            signing_key.write_text(f"ed25519 a_{secrets.token_hex(2)} {seed}\n")

    @property
    def log_path(self) -> Path:
        return self.workdir / "homeserver.log"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 90.0) -> None:
        if self.running:
            raise PeerError(f"{self.server_name} is already running")
        self._starts += 1
        stdout = self.workdir / f"stdout-{self._starts}.log"
        with stdout.open("wb") as out:
            self.proc = subprocess.Popen(
                [str(self.python), "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.workdir,
            )
        try:
            _wait_for_health(
                self.client_url,
                time.monotonic() + timeout,
                lambda: self.running,
                lambda: f"{self.server_name}: {tail(stdout)}\n{tail(self.log_path)}",
            )
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        stop_process(self.proc)

    def log_excerpt(self, lines: int = 40) -> str:
        return f"{self.log_path}:\n{tail(self.log_path, lines)}"

    def describe(self) -> str:
        return f"Synapse {self.server_name} (client {self.client_url}, data {self.workdir})"
