"""Concord side by side with Synapse: the same mxbench scenarios against both, same machine.

    .venv/bin/python benchmarks/bench_vs_synapse.py [--engines sqlite,postgres] [--quick]
                                                    [--profile]      (or: make bench-server)

For each database engine: start Concord (a subprocess, as ``make run`` does), measure its
idle RSS, run ``mxbench.py`` against it; then the same for a reference Synapse started by
``shared/bench/start-synapse.sh`` (its venv cached in ``.bench/``). Prints one table per
engine of Synapse/Concord ratios against the targets:

    send p50 latency          Concord <= 1/4 of Synapse   (Synapse/Concord >= 4)
    concurrent send msgs/s    Concord >= 4x Synapse       (Synapse/Concord <= 1/4)
    fanout p99 (20 pollers)   Concord <= 1/5              (>= 5)
    initial sync 50x20        Concord <= 1/4              (>= 4)
    /messages page p50        Concord <= 1/3              (>= 3)
    idle RSS                  Concord <= 1/3              (>= 3)

The machines are shared and noisy: only ratios from one run mean anything. Every process
started here is stopped by its pid in a ``finally``. Results (JSON lines) and the tables
go to ``.bench/``; ``--profile`` also records Concord with py-spy and prints hot spots.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.integration.server_process import (  # noqa: E402
    ConcordServer,
    fresh_postgres_database,
)
from tests.support.pg_admin import pg_run  # noqa: E402

BENCH_DIR = REPO / ".bench"
SHARED_BENCH = Path(os.environ.get("CONCORD_SHARED_BENCH", REPO.parent / "shared" / "bench"))
SYNAPSE_VENV = BENCH_DIR / "synapse-bench-venv"
SCENARIOS = "send_latency,send_throughput,fanout,initial_sync,messages,create_rooms,join"
FULL_ARGS = [
    *("--latency-msgs", "300", "--senders", "20", "--total-msgs", "2000"),
    *("--listeners", "20", "--fanout-msgs", "100", "--fanout-rate", "10"),
    *("--isync-rooms", "50", "--isync-msgs", "20", "--isync-reps", "5"),
    *("--history-msgs", "1000", "--page-size", "50", "--create-rooms", "50", "--joiners", "50"),
]
QUICK_ARGS = [
    *("--latency-msgs", "100", "--senders", "20", "--total-msgs", "400"),
    *("--listeners", "20", "--fanout-msgs", "30", "--fanout-rate", "10", "--fanout-drain-s", "5"),
    *("--isync-rooms", "50", "--isync-msgs", "20", "--isync-reps", "3"),
    *("--history-msgs", "300", "--page-size", "50", "--create-rooms", "20", "--joiners", "20"),
]
MXBENCH_TIMEOUT_S = 3600


@dataclass(frozen=True)
class Metric:
    label: str
    scenario: str
    path: tuple[str, ...]
    unit: str
    # "lower": lower is better (target: Synapse/Concord >= target);
    # "higher": higher is better (target: Synapse/Concord <= 1/target).
    better: str
    target: float | None


METRICS = [
    Metric("send p50 latency", "send_latency", ("p50_ms",), "ms", "lower", 4),
    Metric("concurrent send throughput", "send_throughput", ("msgs_per_s",), "msg/s", "higher", 4),
    Metric("fanout p99 (20 long-pollers)", "fanout", ("p99_ms",), "ms", "lower", 5),
    Metric("initial sync 50 rooms x 20", "initial_sync", ("median_ms",), "ms", "lower", 4),
    Metric("/messages page p50", "messages", ("page", "p50_ms"), "ms", "lower", 3),
    Metric("idle RSS", "idle", ("rss_kb",), "kB", "lower", 3),
    # Informational rows (no target in the issue).
    Metric("send p99 latency", "send_latency", ("p99_ms",), "ms", "lower", None),
    Metric("concurrent send p50", "send_throughput", ("p50_ms",), "ms", "lower", None),
    Metric("fanout p50", "fanout", ("p50_ms",), "ms", "lower", None),
    Metric("fanout missing deliveries", "fanout", ("missing",), "", "lower", None),
    Metric("createRoom p50", "create_rooms", ("p50_ms",), "ms", "lower", None),
    Metric("join p50", "join", ("p50_ms",), "ms", "lower", None),
    Metric("RSS after the run", "after", ("rss_kb",), "kB", "lower", None),
]


@dataclass
class Run:
    """Everything measured for one server on one engine."""

    label: str
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    def value(self, metric: Metric) -> float | None:
        node: Any = self.results.get(metric.scenario)
        if node is None or node.get("status", "ok") != "ok":
            return None
        for key in metric.path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return float(node) if isinstance(node, int | float) else None

    def status(self, scenario: str) -> str:
        result = self.results.get(scenario)
        return "missing" if result is None else str(result.get("status", "ok"))


# -- processes ----------------------------------------------------------------------------


def rss_kb(pid: int) -> int:
    """VmRSS of ``pid`` and its descendants (as mxbench counts it)."""
    total = 0
    pending = [pid]
    seen: set[int] = set()
    while pending:
        p = pending.pop()
        if p in seen:
            continue
        seen.add(p)
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{p}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(c) for c in children)
    return total


def idle_rss(pid: int, settle_s: float = 3.0) -> dict[str, Any]:
    time.sleep(settle_s)
    return {"status": "ok", "rss_kb": rss_kb(pid)}


def stop_pid(pid: int, timeout: float = 20.0) -> None:
    """SIGTERM ``pid`` (one we started), SIGKILL after ``timeout``."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_mxbench(url: str, pid: int, label: str, scenario_args: list[str], out: Path) -> Run:
    """mxbench.py against ``url``; one result per scenario."""
    cmd = [
        sys.executable,
        str(SHARED_BENCH / "mxbench.py"),
        *("--base-url", url, "--pid", str(pid), "--label", label, "--out", str(out)),
        *("--scenario", SCENARIOS, "--prefix", "bench"),
        *scenario_args,
    ]
    print(f"[bench] mxbench against {label} ({url})", file=sys.stderr, flush=True)
    proc = subprocess.run(
        cmd, stdout=subprocess.PIPE, stderr=sys.stderr, text=True, timeout=MXBENCH_TIMEOUT_S
    )
    run = Run(label)
    for line in proc.stdout.splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            result = json.loads(line)
            if isinstance(result, dict) and "scenario" in result:
                run.results[str(result["scenario"])] = result
    return run


@contextlib.contextmanager
def py_spy(pid: int, out: Path, enabled: bool) -> Iterator[None]:
    """py-spy recording ``pid`` (collapsed stacks) while the block runs."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not enabled or not Path(exe).exists():
        if enabled:
            print("[bench] py-spy not found: no profile", file=sys.stderr)
        yield
        return
    proc = subprocess.Popen(
        [
            *(exe, "record", "--pid", str(pid), "--format", "raw", "--rate", "50"),
            *("-o", str(out), "--nonblocking"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


_IDLE_FRAMES = ("EpollSelector.select (", "_worker (concurrent/futures/thread.py:81)")


def hot_spots(profile: Path, top: int = 15) -> str:
    """Self and inclusive sample shares of the busiest frames in a py-spy raw profile."""
    if not profile.exists():
        return ""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = hashing = 0
    for line in profile.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        if "PasswordHasher" in stack:  # bcrypt of the scenarios' user setup, not timed
            hashing += count
            continue
        frames = stack.split(";")
        if frames[-1].startswith(_IDLE_FRAMES):  # waiting threads py-spy did not see as idle
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        return ""
    lines = [
        f"py-spy: {total} samples ({hashing} more in password hashing, left out)",
        "  self%  function",
    ]
    lines += [f"  {100 * n / total:5.1f}  {f}" for f, n in own.most_common(top)]
    ours = [
        (f, n)
        for f, n in inclusive.most_common()
        if "homeserver/" in f and "homeserver/__main__.py" not in f and "middleware" not in f
    ]
    lines += ["  incl%  Concord function (inclusive)"]
    lines += [f"  {100 * n / total:5.1f}  {f}" for f, n in ours[:top]]
    return "\n".join(lines)


# -- the two servers ----------------------------------------------------------------------


def bench_concord(
    engine: str, run_id: str, scenario_args: list[str], out: Path, profile: bool
) -> tuple[Run, str]:
    workdir = BENCH_DIR / f"concord-{engine}-{run_id}"
    label = f"concord-{engine}"
    with contextlib.ExitStack() as stack:
        dsn = stack.enter_context(fresh_postgres_database()) if engine == "postgres" else None
        # bcrypt at its default cost, like Synapse's (registration is not a timed figure).
        server = ConcordServer(workdir, engine=engine, dsn=dsn, fast_hashing=False)
        try:
            server.start(timeout=60)
            print(f"[bench] {label} up at {server.url}, pid {server.pid}", file=sys.stderr)
            idle = idle_rss(server.pid)
            prof_path = BENCH_DIR / f"profile-{label}-{run_id}.txt"
            with py_spy(server.pid, prof_path, profile):
                run = run_mxbench(server.url, server.pid, label, scenario_args, out)
            run.results["idle"] = idle
            run.results["after"] = {"status": "ok", "rss_kb": rss_kb(server.pid)}
            report = hot_spots(prof_path) if profile else ""
        finally:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return run, report


def bench_synapse(engine: str, run_id: str, scenario_args: list[str], out: Path) -> Run:
    data_dir = BENCH_DIR / f"synapse-{engine}-{run_id}"
    label = f"synapse-{engine}"
    port = free_port()
    pg_name = f"synapse_bench_{run_id}" if engine == "postgres" else ""
    cmd = [
        "bash",
        str(SHARED_BENCH / "start-synapse.sh"),
        *("--venv", str(SYNAPSE_VENV), "--data-dir", str(data_dir), "--port", str(port)),
    ]
    if pg_name:
        cmd += ["--postgres", pg_name]
    print(f"[bench] starting {label} (first run installs Synapse)", file=sys.stderr, flush=True)
    started = subprocess.run(
        cmd, stdout=subprocess.PIPE, stderr=sys.stderr, text=True, timeout=1200, cwd=REPO
    )
    pid_text = started.stdout.strip().splitlines()[-1] if started.stdout.strip() else ""
    pid = int(pid_text) if pid_text.isdigit() else None
    try:
        if started.returncode != 0 or pid is None:
            raise SystemExit(f"start-synapse.sh failed ({started.returncode}); see {data_dir}")
        url = f"http://127.0.0.1:{port}"
        idle = idle_rss(pid)
        run = run_mxbench(url, pid, label, scenario_args, out)
        run.results["idle"] = idle
        run.results["after"] = {"status": "ok", "rss_kb": rss_kb(pid)}
        return run
    finally:
        if pid is not None:
            stop_pid(pid)
        if pg_name:
            drop_postgres_database(pg_name)
        shutil.rmtree(data_dir, ignore_errors=True)


def drop_postgres_database(name: str) -> None:
    import psycopg2

    with contextlib.suppress(psycopg2.Error):
        pg_run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- the table ----------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def table(engine: str, synapse: Run, concord: Run) -> str:
    head = f"{'figure':30} {'Synapse':>12} {'Concord':>12} {'Syn/Con':>8} {'target':>9}  met"
    lines = [f"## {engine}", head, "-" * len(head)]
    for m in METRICS:
        s, c = synapse.value(m), concord.value(m)
        ratio = s / c if s is not None and c not in (None, 0) else None
        if m.target is None:
            target, met = "", ""
        elif m.better == "lower":
            target = f">= {m.target:g}"
            met = "n/a" if ratio is None else ("yes" if ratio >= m.target else "NO")
        else:
            target = f"<= 1/{m.target:g}"
            met = "n/a" if ratio is None else ("yes" if ratio <= 1 / m.target else "NO")
        unit = f" {m.unit}" if m.unit else ""
        lines.append(
            f"{m.label + unit:30} {_fmt(s):>12} {_fmt(c):>12} {_fmt(ratio):>8} {target:>9}  {met}"
        )
    failed = [
        f"{run.label}:{sc}={run.status(sc)[:120]}"
        for run in (synapse, concord)
        for sc in SCENARIOS.split(",")
        if run.status(sc) != "ok"
    ]
    if failed:
        lines.append("scenarios not ok: " + ", ".join(failed))
    for run in (synapse, concord):
        errs = {sc: r.get("errors") for sc, r in run.results.items() if r.get("errors")}
        if errs:
            lines.append(f"{run.label} request errors: {errs}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--quick", action="store_true", help="smaller scenarios (a smoke run)")
    parser.add_argument("--profile", action="store_true", help="py-spy Concord during the run")
    parser.add_argument("--concord-only", action="store_true", help="skip Synapse")
    args = parser.parse_args(argv)

    BENCH_DIR.mkdir(exist_ok=True)
    run_id = time.strftime("%Y%m%d%H%M%S") + uuid.uuid4().hex[:4]
    out = BENCH_DIR / f"bench-server-{run_id}.jsonl"
    scenario_args = QUICK_ARGS if args.quick else FULL_ARGS
    tables: list[str] = []
    for engine in args.engines.split(","):
        concord, report = bench_concord(engine, run_id, scenario_args, out, args.profile)
        synapse = Run(f"synapse-{engine}")
        if not args.concord_only:
            synapse = bench_synapse(engine, run_id, scenario_args, out)
        tables.append(table(engine, synapse, concord))
        if report:
            tables.append(f"### Concord hot spots ({engine})\n{report}")
        print("\n" + tables[-1 if not report else -2], flush=True)
    text = "\n\n".join(tables)
    mode = "quick" if args.quick else "full"
    header = f"# Concord vs Synapse ({mode} scenarios, run {run_id}; ratios are Synapse/Concord)"
    summary = BENCH_DIR / f"bench-server-{run_id}.md"
    summary.write_text(header + "\n\n" + text + "\n", encoding="utf-8")
    print(f"\n{header}\n\n{text}\n\nresults: {out}\ntables: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
