"""The real Concord server as a subprocess, for tests and benchmarks that talk HTTP to it.

    with concord_server(tmp_path, engine="sqlite") as server:
        ... server.url ...          # "http://127.0.0.1:PORT"
        server.kill()               # SIGKILL, like a crash
        server.start()              # again, on the same data (a new port)

The config comes from ``python -m homeserver generate-config`` and is then rewritten:
registration open, rate limits off, cheap bcrypt, the chosen database. ``fresh_postgres_database()``
creates an empty PostgreSQL database and drops it afterwards (as ``tests/conftest.py``).
Processes are only ever signalled by their own pid.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.support.pg_admin import PG_ADMIN_DSN, pg_run

REPO = Path(__file__).resolve().parents[2]
_URL_MARK = ": open "


class ServerError(RuntimeError):
    """The server did not come up (the message carries the tail of its log)."""


class ConcordServer:
    """One server's config + data directory and, while running, its process."""

    def __init__(
        self,
        workdir: Path,
        *,
        engine: str = "sqlite",
        dsn: str | None = None,
        python: str = sys.executable,
        log_level: str = "warning",
        fast_hashing: bool = True,
        extra_config: dict[str, Any] | None = None,
    ) -> None:
        self.workdir = workdir
        self.config_path = workdir / "config.yaml"
        self.python = python
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self._starts = 0
        workdir.mkdir(parents=True, exist_ok=True)
        if not self.config_path.exists():
            extra = dict(extra_config or {})
            if fast_hashing and _config_knows("bcrypt_rounds"):
                extra.setdefault("bcrypt_rounds", 4)
            if _config_knows("rate_limits"):
                # Many users from one loopback address, as in Synapse's benchmark config.
                extra.setdefault("rate_limits", {"enabled": False})
            self._generate(engine, dsn, log_level, extra)

    # -- config ---------------------------------------------------------------------------

    def _generate(
        self, engine: str, dsn: str | None, log_level: str, extra: dict[str, Any]
    ) -> None:
        subprocess.run(
            [
                *(self.python, "-m", "homeserver", "generate-config"),
                *("--config", str(self.config_path), "--server-name", "localhost", "--port", "0"),
            ],
            check=True,
            cwd=REPO,
            capture_output=True,
            timeout=60,
        )
        config = yaml.safe_load(self.config_path.read_text(encoding="utf-8"))
        config["enable_registration"] = True
        # Clients here act faster than people; rate limits have their own tests.
        config.setdefault("rate_limits", {"enabled": False})
        config["log_level"] = log_level
        if engine == "postgres":
            if not dsn:
                raise ValueError("engine=postgres needs a dsn")
            config["database"] = {"engine": "postgres", "dsn": dsn}
        elif engine != "sqlite":
            raise ValueError(f"unknown engine {engine!r}")
        config.update(extra)
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    # -- process --------------------------------------------------------------------------

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise ServerError("the server is not running")
        return self.proc.pid

    @property
    def log_path(self) -> Path:
        return self.workdir / f"server-{self._starts}.log"

    def start(self, timeout: float = 30.0) -> str:
        """Start the server, wait until /health answers; returns its base URL."""
        if self.proc is not None and self.proc.poll() is None:
            raise ServerError("already running")
        self._starts += 1
        out_path = self.workdir / f"stdout-{self._starts}.txt"
        with out_path.open("wb") as out, self.log_path.open("wb") as err:
            self.proc = subprocess.Popen(
                [self.python, "-m", "homeserver", "run", "--config", str(self.config_path)],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                cwd=REPO,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + timeout
        try:
            self.url = self._wait_for_url(out_path, deadline)
            self._wait_for_health(deadline)
        except BaseException:
            self.kill()
            raise
        return self.url

    def _wait_for_url(self, out_path: Path, deadline: float) -> str:
        assert self.proc is not None
        while time.monotonic() < deadline:
            for line in out_path.read_text(encoding="utf-8", errors="replace").splitlines():
                if _URL_MARK in line:
                    return line.rsplit(_URL_MARK, 1)[1].strip().rstrip("/")
            if self.proc.poll() is not None:
                raise ServerError(f"server exited with {self.proc.returncode}: {self.log_tail()}")
            time.sleep(0.05)
        raise ServerError(f"server printed no URL in time: {self.log_tail()}")

    def _wait_for_health(self, deadline: float) -> None:
        assert self.proc is not None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if self.proc.poll() is not None:
                raise ServerError(f"server exited with {self.proc.returncode}: {self.log_tail()}")
            time.sleep(0.05)
        raise ServerError(f"/health never answered: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL (a crash): no drain, no cleanup."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; returns the exit code."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
        return proc.returncode

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _config_knows(key: str) -> bool:
    from homeserver.config import Config

    return key in Config.__dataclass_fields__


@contextlib.contextmanager
def concord_server(workdir: Path, **options: Any) -> Iterator[ConcordServer]:
    """A started server (``options`` as for ``ConcordServer``), stopped on exit whatever happens."""
    server = ConcordServer(workdir, **options)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _pg_dsn_for(name: str) -> str:
    base, _, _ = PG_ADMIN_DSN.rpartition("/")
    return f"{base}/{name}"


@contextlib.contextmanager
def fresh_postgres_database(prefix: str = "concord_it_") -> Iterator[str]:
    """An empty PostgreSQL database; yields its DSN and drops it afterwards.

    Raises ``psycopg2.OperationalError`` when PostgreSQL is unreachable.
    """
    name = prefix + uuid.uuid4().hex[:12]
    pg_run(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_dsn_for(name)
    finally:
        pg_run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
