"""Concord against Synapse on the same protocol work, same machine, same run.

Builds the datasets of ``bench_state_res.py`` and ``bench_signing.py`` with their own
generators, times Concord in this process, then runs ``synapse_protocol.py`` in the
Synapse venv (``synapse_env.py`` creates it on first use) on the same data, checks that
both servers resolve the forks to the same state and sign to the same bytes, and prints
Concord's and Synapse's times with the ratio Synapse / Concord (above 1: Concord is
faster). Absolute times on these machines are noise; the ratio is the figure.

    .venv/bin/python benchmarks/compare_protocol.py [--version 11|12] [--keep DATASET.json]

Exits 1 if the two implementations disagree on a result.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import bench_signing  # noqa: E402
import bench_state_res  # noqa: E402
import synapse_env  # noqa: E402

from homeserver.protocol.canonical import JsonDict  # noqa: E402
from homeserver.protocol.events import Event  # noqa: E402
from homeserver.protocol.room_versions import room_version  # noqa: E402
from homeserver.protocol.signing import (  # noqa: E402
    VerifyKeyInfo,
    check_content_hash,
    hash_and_sign_event,
    verify_event_signatures,
)
from homeserver.protocol.state_res import resolve_state  # noqa: E402

STATE_RES_RUNS = 7
SYNAPSE_TIMEOUT_S = 170

StateKey = tuple[str, str]


class Timings:
    """Wall-clock and CPU (process) time of repeated runs, in milliseconds.

    CPU time is reported too because the machines are shared: a process that waits for a
    core loses wall time but not CPU time. synapse_protocol.py measures the same way.
    """

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self._started = (0.0, 0.0)

    def start(self) -> None:
        self._started = (time.perf_counter(), time.process_time())

    def stop(self) -> None:
        wall, cpu = self._started
        self.wall.append((time.perf_counter() - wall) * 1000)
        self.cpu.append((time.process_time() - cpu) * 1000)

    def summary(self) -> dict[str, float]:
        return {
            "median_ms": statistics.median(self.wall),
            "min_ms": min(self.wall),
            "cpu_median_ms": statistics.median(self.cpu),
        }


# -- state resolution ----------------------------------------------------------------


def _differing_keys(a: Mapping[StateKey, str], b: Mapping[StateKey, str]) -> int:
    return sum(1 for k in set(a) | set(b) if a.get(k) != b.get(k))


def state_res_case(identifier: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Concord's timings on the bench_state_res room, and the case for Synapse."""
    version = room_version(identifier)
    room, fork_a, fork_b = bench_state_res.build(version)
    fetch = room.events.get
    timings = Timings()
    results: list[dict[StateKey, str]] = []
    for _ in range(STATE_RES_RUNS):
        timings.start()
        resolved = resolve_state(version, [fork_a, fork_b], fetch)
        timings.stop()
        results.append(resolved)
    events: list[Event] = list(room.events.values())  # creation order: auth events first
    case = {
        "name": f"v{identifier}",
        "room_version": identifier,
        "room_id": room.room_id,
        "runs": STATE_RES_RUNS,
        "events": [{"event_id": e.event_id, "pdu": e.pdu, "rejected": e.rejected} for e in events],
        "state_sets": [[[t, k, e] for (t, k), e in s.items()] for s in (fork_a, fork_b)],
    }
    concord = {
        "name": f"v{identifier}",
        **timings.summary(),
        "stable": all(r == results[0] for r in results),
        "resolved": results[0],
        "conflicted": bench_state_res.conflicted_count(fork_a, fork_b),
        "dag_events": len(events),
        "state_events": len(fork_a),
        "event_types": {e.event_id: e.type for e in events},
        "differs_a": _differing_keys(results[0], fork_a),
        "differs_b": _differing_keys(results[0], fork_b),
    }
    return concord, case


def compare_states(
    name: str, ours: Mapping[StateKey, str], theirs: Mapping[StateKey, str], types: dict[str, str]
) -> list[str]:
    """Lines describing every key where the two resolved states differ."""
    problems: list[str] = []
    for key in sorted(set(ours) | set(theirs)):
        if ours.get(key) != theirs.get(key):
            mine, other = ours.get(key), theirs.get(key)
            problems.append(
                f"  {name} {key}: Concord {mine} / Synapse {other}"
                f" ({types.get(mine or '', '-')} / {types.get(other or '', '-')})"
            )
    return problems


# -- hashing, signing, verifying -----------------------------------------------------


def signature_digest(pdus: list[JsonDict], server_name: str, key_id: str) -> str:
    """A digest of every event's content hash and signature, in order.

    ed25519 signatures are deterministic, so two servers that hash and redact alike
    produce the same digest; synapse_protocol.py computes it the same way.
    """
    lines = [f"{p['hashes']['sha256']} {p['signatures'][server_name][key_id]}" for p in pdus]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def signing_case(identifier: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Concord's timings on the bench_signing events, and the case for Synapse.

    The same loops as bench_signing.py: hash+sign every unsigned PDU; then verify the
    signatures and content hash of the signed events, parsed into Events beforehand.
    """
    version = room_version(identifier)
    key = bench_signing.signing_key()
    unsigned = bench_signing.make_unsigned_events(version, bench_signing.EVENTS)
    runs = bench_signing.RUNS
    sign = Timings()
    signed: list[JsonDict] = []
    for _ in range(runs):
        sign.start()
        signed = [hash_and_sign_event(pdu, key, version) for pdu in unsigned]
        sign.stop()
    keys = {(key.server_name, key.key_id): VerifyKeyInfo.decode(key.verify_key, None)}
    received = [Event(json.loads(json.dumps(p)), version) for p in signed]
    verify = Timings()
    failures = 0
    for _ in range(runs):
        verify.start()
        for event in received:
            verify_event_signatures(event, keys)
            if not check_content_hash(event):
                failures += 1
        verify.stop()
    case = {
        "room_version": identifier,
        "server_name": key.server_name,
        "key_version": key.version,
        "key_seed": bench_signing.KEY_SEED,
        "runs": runs,
        "unsigned": unsigned,
        "signed": signed,
    }
    concord = {
        "events": len(unsigned),
        "runs": runs,
        "sign": sign.summary(),
        "verify": verify.summary(),
        "signed_digest": signature_digest(signed, key.server_name, key.key_id),
        "verify_failures": failures,
    }
    return concord, case


# -- running Synapse -----------------------------------------------------------------


def run_synapse(dataset: dict[str, Any], keep: Path | None) -> dict[str, Any]:
    python = synapse_env.ensure_synapse_venv()
    with tempfile.TemporaryDirectory(prefix="concord-bench-") as tmp:
        path = keep or Path(tmp) / "dataset.json"
        path.write_text(json.dumps(dataset), encoding="utf-8")
        proc = subprocess.run(
            [str(python), str(HERE / "synapse_protocol.py"), str(path)],
            capture_output=True,
            text=True,
            timeout=SYNAPSE_TIMEOUT_S,
            cwd=tmp,
        )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"synapse_protocol.py failed with exit code {proc.returncode}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit("synapse_protocol.py printed no result")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


# -- the table -----------------------------------------------------------------------

HEADER = (
    f"{'':<38} {'Concord ms':>10} {'Synapse ms':>10} {'ratio':>6} {'CPU ratio':>9}"
    f" {'Concord ev/s':>12} {'Synapse ev/s':>12}"
)


def _row(
    what: str, ours: Mapping[str, float], theirs: Mapping[str, float], events: int | None = None
) -> str:
    """One line of the table: wall medians, and the ratios Synapse time / Concord time."""
    concord_ms, synapse_ms = ours["median_ms"], theirs["median_ms"]
    cpu_ratio = theirs["cpu_median_ms"] / ours["cpu_median_ms"]
    line = (
        f"{what:<38} {concord_ms:>10.1f} {synapse_ms:>10.1f} {synapse_ms / concord_ms:>5.2f}x"
        f" {cpu_ratio:>8.2f}x"
    )
    if events is not None:
        line += f" {events / concord_ms * 1000:>12,.0f} {events / synapse_ms * 1000:>12,.0f}"
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--version", default=None, help="room version of the state res room (default: 11 and 12)"
    )
    parser.add_argument(
        "--signing-version", default="11", help="room version of the signed events (default 11)"
    )
    parser.add_argument("--keep", type=Path, default=None, help="also write the dataset here")
    args = parser.parse_args()
    versions = [args.version] if args.version else ["11", "12"]

    synapse_env.ensure_synapse_venv()  # before the timings: a first install takes a while
    started = time.perf_counter()
    concord_state: list[dict[str, Any]] = []
    state_cases: list[dict[str, Any]] = []
    for identifier in versions:
        concord, case = state_res_case(identifier)
        concord_state.append(concord)
        state_cases.append(case)
        print(f"Concord: state res v{identifier} timed ({concord['median_ms']:.1f} ms)", flush=True)
    concord_signing, signing = signing_case(args.signing_version)
    print("Concord: hash+sign and verify timed; now Synapse", flush=True)

    synapse = run_synapse({"state_res": state_cases, "signing": signing}, args.keep)

    problems: list[str] = []
    for ours, theirs in zip(concord_state, synapse["state_res"], strict=True):
        their_state = {(t, k): e for t, k, e in theirs["resolved"]}
        problems += compare_states(ours["name"], ours["resolved"], their_state, ours["event_types"])
        if not ours["stable"] or not theirs["stable"]:
            problems.append(f"  {ours['name']}: a server resolved differently between runs")
        if not theirs["distinct_timestamps"]:
            print(
                f"note: room {ours['name']} has events with equal timestamps; Synapse ran on"
                " hash-derived event ids, which may then order events differently"
            )
    their_signing = synapse["signing"]
    if their_signing["signed_digest"] != concord_signing["signed_digest"]:
        problems.append("  hash+sign: Synapse's content hashes or signatures differ from Concord's")
    if concord_signing["verify_failures"]:
        problems.append(f"  verify: Concord failed {concord_signing['verify_failures']} checks")
    if their_signing["verify_failures"]:
        problems.append(
            f"  verify: Synapse failed {their_signing['verify_failures']} checks"
            " on Concord's signed events"
        )

    print()
    print(f"Concord vs Synapse {synapse['synapse']}: same machine, same run, one core each")
    print(HEADER)
    for ours, theirs in zip(concord_state, synapse["state_res"], strict=True):
        print(_row(f"state res, two forks, room {ours['name']}", ours, theirs))
        print(_row("  Synapse less our in-memory store", ours, theirs["less_store"]))
    events = concord_signing["events"]
    for step, label in (("sign", "hash+sign"), ("verify", "verify")):
        what = f"{label} {events} events, room v{args.signing_version}"
        print(_row(what, concord_signing[step], their_signing[step], events))
    print()
    runs = concord_signing["runs"]
    print("ratio = Synapse time / Concord time, above 1: Concord is faster. Wall-clock medians")
    print(f"of {STATE_RES_RUNS} state resolutions and of {runs} passes over the events; the CPU")
    print("ratio compares CPU time, steadier when the machine is busy. Verify = signatures +")
    print("content hash, keys known. Synapse's state res store is ours, in memory: Synapse's")
    print("database answers the auth chain difference from its chain cover index instead.")
    for ours in concord_state:
        print(
            f"room {ours['name']}: {ours['state_events']} state events,"
            f" {ours['conflicted']} conflicted events, {ours['dag_events']} events in the DAG;"
            f" the resolved state differs from fork A at {ours['differs_a']} keys and from"
            f" fork B at {ours['differs_b']}"
        )
    print(f"whole comparison: {time.perf_counter() - started:.0f} s")
    if problems:
        print()
        print(f"MISMATCH: Concord and Synapse disagree ({len(problems)} differences):")
        for line in problems[:50]:
            print(line)
        if len(problems) > 50:
            print(f"  ... and {len(problems) - 50} more")
        sys.exit(1)
    print(
        "Concord and Synapse agree: same resolved states, same content hashes and"
        " signatures, and each verifies the events."
    )


if __name__ == "__main__":
    main()
