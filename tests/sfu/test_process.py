"""``python -m sfu`` as an admin runs it: a bad config is one line naming the key; a good
one serves until Ctrl-C (SIGINT) or SIGTERM and exits cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from sfu.__main__ import main
from tests.support.waiting import free_port


def test_bad_config_is_one_line_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "sfu.yaml"
    tokens = "{as_token: aaaaaaaaaaaaaaaaaaaa, hs_token: hhhhhhhhhhhhhhhhhhhh}"
    config.write_text(
        f"server_name: a.org\nhomeserver_url: http://127.0.0.1:8008\njwt: {{}}\n"
        f"app_service: {tokens}\n"
    )
    assert main(["run", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {config}: `jwt.secret` is required"]
    assert main(["run", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read the SFU config" in capsys.readouterr().err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_and_stop(tmp_path: Path, sig: signal.Signals) -> None:
    pytest.importorskip("sfu.media", reason="the media half (sfu/media) is not merged yet")
    hs = tmp_path / "config.yaml"
    # Nothing listens there: the SFU serves anyway and keeps retrying its clean-up.
    hs.write_text(f'server_name: "a.test"\nlisteners:\n  client:\n    port: {free_port()}\n')
    sfu = tmp_path / "sfu.yaml"
    port = free_port()
    args = ["generate", "--config", str(sfu), "--homeserver-config", str(hs)]
    assert main([*args, "--port", str(port)]) == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "sfu", "run", "--config", str(sfu)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(f"Concord SFU is running: http://127.0.0.1:{port}"), line
        assert "bot @sfu:a.test" in line
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as resp:
            assert json.load(resp) == {"status": "ok"}
        proc.send_signal(sig)
        assert proc.wait(timeout=15) == 0
        assert "stopped" in (proc.stderr.read() if proc.stderr else "")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
