"""``make run`` serves the SFU beside the homeserver: first run writes the SFU config and
the bot's registration and lists it in the homeserver config; both print their URL; one
Ctrl-C (SIGINT to the foreground process group) stops both."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from homeserver.__main__ import main as homeserver_main
from tests.support.waiting import free_port

REPO = Path(__file__).resolve().parents[2]


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_serves_both_and_ctrl_c_stops_both(tmp_path: Path) -> None:
    hs_port, sfu_port = free_port(), free_port()
    config = tmp_path / "config.yaml"
    args = ["--server-name", f"localhost:{hs_port}", "--port", str(hs_port)]
    args += ["--federation-port", str(free_port())]
    assert homeserver_main(["generate-config", "--config", str(config), *args]) == 0
    proc = subprocess.Popen(
        # -o: the venv is installed already; do not let make reinstall it.
        ["make", "-s", "-o", ".venv/.installed", "run", f"CONFIG={config}", f"SFU_PORT={sfu_port}"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    seen: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            any("Concord is running" in line for line in seen)
            and any("Concord SFU is running" in line for line in seen)
        ):
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
        assert any(f"Concord SFU is running: http://127.0.0.1:{sfu_port}" in x for x in seen), seen
        sfu = yaml.safe_load((tmp_path / "sfu.yaml").read_text())
        req = urllib.request.Request(
            f"http://127.0.0.1:{hs_port}/_matrix/client/v3/account/whoami",
            headers={"Authorization": f"Bearer {sfu['app_service']['as_token']}"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert json.load(resp)["user_id"] == f"@sfu:localhost:{hs_port}"
        with urllib.request.urlopen(f"http://127.0.0.1:{sfu_port}/health", timeout=5) as resp:
            assert resp.status == 200
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (listening(hs_port) or listening(sfu_port)):
            time.sleep(0.1)
        assert not listening(hs_port) and not listening(sfu_port)
    finally:
        # Whatever of our own process group is left (nothing, when the test passed).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
