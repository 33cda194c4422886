"""The built web client the browser tests load (web/dist), and the rule for when the
browser tests may skip (tests/web/harness.py has the rest of the harness)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
DIST = WEB / "dist"
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1" or os.environ.get("CI") == "true"


def unavailable(reason: str) -> NoReturn:
    """Skip the browser tests, or fail them where they are required (CI, make test)."""
    if REQUIRE_BROWSER:
        pytest.fail(f"browser tests required (CI / REQUIRE_BROWSER=1): {reason}")
    pytest.skip(reason)


def _newest_source_mtime() -> float:
    paths = [WEB / n for n in ("index.html", "package-lock.json", "vite.config.ts")]
    paths += [p for d in ("src", "public") for p in (WEB / d).rglob("*") if p.is_file()]
    return max((p.stat().st_mtime for p in paths if p.exists()), default=0.0)


def ensure_web_built() -> Path:
    """web/dist, rebuilt first when a source is newer than it (so a test never runs an
    old client). Needs npm and web/node_modules (``make web`` or ``npm ci`` in web/)."""
    index = DIST / "index.html"
    fresh = index.exists() and index.stat().st_mtime >= _newest_source_mtime()
    if fresh:
        return DIST
    npm = shutil.which("npm")
    if npm is None or not (WEB / "node_modules").is_dir():
        if index.exists():
            return DIST  # stale but usable; nothing newer can be built here
        unavailable("web/dist is not built and npm/web/node_modules are missing (make web)")
    built = subprocess.run(
        [npm, "exec", "--", "vite", "build", "--logLevel", "warn"],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if built.returncode != 0:
        pytest.fail(f"vite build failed:\n{built.stdout[-3000:]}\n{built.stderr[-3000:]}")
    return DIST
