"""The `concord` command as an admin runs it: generate a config, serve, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from homeserver.__main__ import main


def test_generate_config_writes_config_and_key(tmp_path: Path) -> None:
    config = tmp_path / "data" / "config.yaml"
    assert main(["generate-config", "--config", str(config), "--server-name", "chat.test"]) == 0
    key = tmp_path / "data" / "signing.key"
    assert key.read_text().startswith("ed25519 ")
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    # A second run refuses to overwrite either.
    assert main(["generate-config", "--config", str(config)]) == 2


def test_run_with_bad_config_prints_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("server_name: a.org\ndatabase:\n  engine: oracle\n")
    assert main(["run", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "`database.engine`" in err[0]


def test_run_without_key_is_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("server_name: a.org\n")
    assert main(["run", "--config", str(config)]) == 2
    assert "no signing key" in capsys.readouterr().err


def test_serve_and_stop_on_sigint(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    assert main(["generate-config", "--config", str(config), "--port", "0"]) == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "homeserver", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "open http://127.0.0.1:" in line, line
        url = line.rsplit(" ", 1)[1].strip()
        # Registration is closed by default: the host is told how to make an account.
        hint = proc.stdout.readline()
        assert f"concord register-user --config {config} NAME" in hint, hint
        with urllib.request.urlopen(url + "_matrix/key/v2/server", timeout=5) as resp:
            assert json.load(resp)["server_name"] == "localhost:8008"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
        assert "msg=stopped" in (proc.stderr.read() if proc.stderr else "")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_unreachable_postgres_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    assert main(["generate-config", "--config", str(config)]) == 0
    text = config.read_text().replace(
        'engine: sqlite\n  path: "concord.db"',
        'engine: postgres\n  dsn: "postgresql://concord:secret@127.0.0.1:1/concord"',
    )
    config.write_text(text)
    assert main(["run", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "cannot connect to PostgreSQL" in err[0]
    assert "secret" not in err[0]  # the password is not echoed
