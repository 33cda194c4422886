"""What the interop peers share: free loopback ports, one self-signed certificate, waiting
for ``/health``, and stopping a process by its own pid within a bounded time."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from homeserver.tls_files import write_self_signed

LOOPBACK = "127.0.0.1"


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports that were free a moment ago (held open together, so
    they differ; a process may still take one before the peer binds it, which is rare)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((LOOPBACK, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """(certificate, key) PEM files for ``localhost``, made once per directory. Every peer
    may serve the same one: nobody verifies it (``verify_certificates: false``)."""
    cert, key = directory / "tls.crt", directory / "tls.key"
    if not cert.exists():
        write_self_signed(cert, key, "localhost")
    return cert, key


def wait_for_health(
    url: str, deadline: float, alive: Callable[[], bool], describe: Callable[[], str]
) -> None:
    """Poll ``url``/health until it answers 200; raise if the process dies or time runs out."""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if not alive():
            raise PeerError(f"exited before answering /health: {describe()}")
        time.sleep(0.1)
    raise PeerError(f"/health never answered: {describe()}")


def stop_process(proc: subprocess.Popen[bytes] | None, timeout: float = 20.0) -> None:
    """SIGTERM to this process (by its pid only), SIGKILL after ``timeout``."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)


def tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"(no {path.name})"
    return "\n".join(text.splitlines()[-lines:])


class PeerError(RuntimeError):
    """A peer did not start (the message carries the tail of its log)."""
