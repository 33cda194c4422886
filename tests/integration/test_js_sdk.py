"""matrix-js-sdk (Node) against the real server: tests/integration/js/scenario.mjs.

``make test`` installs the pinned SDK (``npm ci``) first; run alone, this test installs
it when ``node_modules`` is missing. Without node/npm the test skips.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .server_process import ConcordServer

JS_DIR = Path(__file__).resolve().parent / "js"


@pytest.fixture(scope="session")
def js_sdk() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node/npm are not installed")
    if not (JS_DIR / "node_modules" / "matrix-js-sdk" / "package.json").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True, timeout=300)
    return Path(node)


def run_scenario(node: Path, url: str, *extra: str) -> None:
    proc = subprocess.run(
        [str(node), "scenario.mjs", url, *extra],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"scenario.mjs failed ({proc.returncode}):\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}",
            pytrace=False,
        )
    assert proc.stdout.rstrip().endswith("PASS"), proc.stdout


def test_js_sdk_scenario(js_sdk: Path, server: ConcordServer) -> None:
    # --start-client: the SDK's own sync loop (it needs /pushrules/ and filters, as
    # Element does), with typing, reactions, receipts and presence from another user.
    run_scenario(js_sdk, server.url, "--start-client")
