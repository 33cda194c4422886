"""The federation listener as an admin meets it: generate-config writes a self-signed
certificate, `run` serves the federation API over HTTPS, a broken certificate is one line."""

from __future__ import annotations

import json
import os
import re
import signal
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from homeserver.__main__ import main
from homeserver.config import load_config


def test_generate_config_writes_a_federation_listener_and_certificate(tmp_path: Path) -> None:
    config_path = tmp_path / "config.yaml"
    args = ["generate-config", "--config", str(config_path), "--server-name", "chat.test"]
    assert main(args) == 0
    config = load_config(config_path)
    listener = config.federation_listener
    assert listener is not None and listener.port == 8448
    assert listener.tls_certificate == tmp_path / "tls.crt"
    assert listener.tls_private_key.stat().st_mode & 0o077 == 0
    cert = ssl._ssl._test_decode_cert(str(listener.tls_certificate))  # type: ignore[attr-defined]
    assert ("DNS", "chat.test") in cert["subjectAltName"]
    other = tmp_path / "other.yaml"
    assert main(["generate-config", "--config", str(other), "--federation-port", "9448"]) == 0
    assert load_config(other).federation_listener.port == 9448  # type: ignore[union-attr]
    assert (
        main(["generate-config", "--config", str(tmp_path / "x.yaml"), "--federation-port", "x"])
        == 2
    )


def test_run_serves_federation_over_tls(tmp_path: Path) -> None:
    config_path = tmp_path / "config.yaml"
    assert main(["generate-config", "--config", str(config_path), "--port", "0"]) == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "homeserver", "run", "--config", str(config_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        assert "open http://127.0.0.1:" in proc.stdout.readline()
        fed_url = None
        for _ in range(50):
            line = proc.stderr.readline()
            found = re.search(r"url=(https://\S+)", line)
            if found:
                fed_url = found.group(1).strip('"')
                break
        assert fed_url, "no federation listener in the log"
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        with urllib.request.urlopen(
            fed_url + "_matrix/key/v2/server", timeout=5, context=insecure
        ) as resp:
            assert json.load(resp)["server_name"] == "localhost:8008"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_missing_certificate_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = tmp_path / "config.yaml"
    assert main(["generate-config", "--config", str(config_path), "--port", "0"]) == 0
    data = yaml.safe_load(config_path.read_text())
    data["listeners"]["federation"]["tls_certificate"] = "missing.crt"
    config_path.write_text(yaml.safe_dump(data))
    capsys.readouterr()
    assert main(["run", "--config", str(config_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "listeners.federation" in err[0] and "missing.crt" in err[0]
