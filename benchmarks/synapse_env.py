"""A cached virtualenv with the reference Synapse, for the side-by-side benchmarks.

Creates ``<repo>/.bench/synapse-venv`` with ``matrix-synapse`` from PyPI on first use
(``.bench/`` is gitignored) and prints the path of its python. Later runs only check it.

    .venv/bin/python benchmarks/synapse_env.py
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

SYNAPSE_VERSION = "1.163.2"
REPO = Path(__file__).resolve().parent.parent
VENV_DIR = REPO / ".bench" / "synapse-venv"
_IMPORT_CHECK = (
    "import synapse.event_auth, synapse.state.v2, synapse.crypto.event_signing, signedjson.sign"
)
_MARKER = VENV_DIR / f".installed-matrix-synapse-{SYNAPSE_VERSION}"


def synapse_python() -> Path:
    return VENV_DIR / "bin" / "python"


def ensure_synapse_venv(*, quiet: bool = False) -> Path:
    """The python of the Synapse venv, creating and installing it only if missing."""
    python = synapse_python()
    if _MARKER.exists() and python.exists():
        return python
    out = sys.stderr
    if not quiet:
        print(f"installing matrix-synapse=={SYNAPSE_VERSION} into {VENV_DIR}", file=out)
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV_DIR)
    pip = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"matrix-synapse=={SYNAPSE_VERSION}"],
        stdout=out,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in pip.stderr.splitlines():
        if not line.startswith("WARNING: Location "):  # pip's notes on local mirrors
            print(line, file=out)
    if pip.returncode:
        raise SystemExit(f"pip could not install matrix-synapse=={SYNAPSE_VERSION}")
    # synapse.state must not be the first Synapse module imported (circular import)
    subprocess.run([str(python), "-c", _IMPORT_CHECK], check=True)
    _MARKER.touch()
    return python


def main() -> None:
    print(ensure_synapse_venv())


if __name__ == "__main__":
    main()
