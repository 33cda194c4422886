"""Benchmark: idle resident memory (VmRSS) of the Concord server process.

Generates a fresh config (SQLite, or PostgreSQL with ``--engine postgres`` in a fresh
database) in a temporary directory, starts ``python -m homeserver run`` as a child
process, waits for it to settle, sends a few ordinary requests (``GET
/_matrix/client/versions``, the login flows, a failed password login,
``/_matrix/key/v2/server``), waits again, then reads ``VmRSS`` from
``/proc/<pid>/status`` and stops the server with SIGTERM. Prints each run's kB and the
median of the runs; ``--breakdown`` adds RSS by mapping (each shared library, the C
heap, anonymous memory: mostly Python objects).

Run from the repository root:

    .venv/bin/python benchmarks/measure_idle_rss.py [--runs 3] [--engine postgres]

Target: at most one third of Synapse's idle RSS on the same machine (123,900 kB measured
with SQLite, 121,800 kB with PostgreSQL).

Where the memory is (kB, Python 3.11, SQLite, ~33,000 in all): the interpreter with
``site`` ~11,000; asyncio with ``ssl`` (OpenSSL's libcrypto/libssl) ~7,400; yaml 1,400;
PyNaCl with cffi ~1,200; sqlite3 ~1,200; our ~130 modules ~4,000; bcrypt, orjson,
httptools, logging, argparse the rest. PostgreSQL adds psycopg2 with its bundled libpq
and OpenSSL (~6,400) and its connections. Not here on purpose: aiohttp (~14,000 with its
client, which its ``__init__`` always imports), prometheus-client (~3,000: it imports an
HTTP server, a WSGI server and urllib.request) and psycopg 3 (6,000 more than psycopg2).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SYNAPSE_IDLE_KB = {"sqlite": 123_900, "postgres": 121_800}


def _request(url: str, body: dict[str, object] | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        exc.read()
        return int(exc.code)


def _wait_listening(base: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            _request(base + "/_matrix/client/versions")
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start listening in time")


def vm_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS line")


def rss_by_mapping(pid: int) -> Counter[str]:
    """VmRSS split by what is mapped: each shared library, ``[heap]``, ``[anon]``."""
    totals: Counter[str] = Counter()
    mapping = "[anon]"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if not fields:
            continue
        if not fields[0].endswith(":"):
            mapping = fields[5] if len(fields) > 5 else "[anon]"
        elif fields[0] == "Rss:":
            totals[mapping] += int(fields[1])
    return totals


@contextmanager
def _postgres_dsn() -> Iterator[str]:
    from tests.integration.server_process import fresh_postgres_database

    with fresh_postgres_database("concord_rss_") as dsn:
        yield dsn


def _drop_tls_listener(config: Path) -> None:
    import yaml

    data = yaml.safe_load(config.read_text())
    data.get("listeners", {}).pop("federation", None)
    config.write_text(yaml.safe_dump(data))


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def measure_once(port: int, settle: float, engine: str, breakdown: bool) -> int:
    if not _port_is_free(port):
        raise RuntimeError(f"port {port} is already in use; pass another with --port")
    dsn_context = _postgres_dsn() if engine == "postgres" else nullcontext("")
    with tempfile.TemporaryDirectory(prefix="concord-rss-") as tmp, dsn_context as dsn:
        config = Path(tmp) / "config.yaml"
        python = sys.executable
        generate = ["generate-config", "--config", str(config), "--port", str(port)]
        subprocess.run(
            [python, "-m", "homeserver", *generate],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        # Like the reference Synapse of ../shared/bench (one plain HTTP listener
        # serving the client and federation APIs, `tls: false`): no TLS listener.
        _drop_tls_listener(config)
        if dsn:
            with config.open("a") as out:
                out.write(f"\ndatabase:\n  engine: postgres\n  dsn: {json.dumps(dsn)}\n")
        proc = subprocess.Popen(
            [python, "-m", "homeserver", "run", "--config", str(config)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_listening(base, proc, timeout=30)
            time.sleep(settle)
            _request(base + "/_matrix/client/versions")
            _request(base + "/_matrix/client/v3/login")
            _request(
                base + "/_matrix/client/v3/login",
                {
                    "type": "m.login.password",
                    "identifier": {"type": "m.id.user", "user": "nobody"},
                    "password": "wrong password",
                },
            )
            _request(base + "/_matrix/key/v2/server")
            time.sleep(1.0)
            if breakdown:
                for mapping, kb in rss_by_mapping(proc.pid).most_common(15):
                    print(f"  {kb:7,} kB  {mapping}")
            return vm_rss_kb(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=18110)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds after start")
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--breakdown", action="store_true", help="RSS by mapping, per run")
    args = parser.parse_args()
    results = []
    for i in range(args.runs):
        kb = measure_once(args.port, args.settle, args.engine, args.breakdown)
        results.append(kb)
        print(f"run {i + 1}: {kb:,} kB", flush=True)
    median = int(statistics.median(results))
    synapse = SYNAPSE_IDLE_KB[args.engine]
    ratio = synapse / median
    print(
        f"median idle VmRSS ({args.engine}): {median:,} kB "
        f"({ratio:.2f}x below Synapse's {synapse:,} kB; target 3x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
