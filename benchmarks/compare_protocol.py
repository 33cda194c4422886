"""Concord against Synapse on the same protocol work, same machine, same run.

Builds the datasets of ``bench_state_res.py`` and ``bench_signing.py`` with their own
generators and hands them to ``synapse_protocol.py --serve``, running in the Synapse venv
(``synapse_env.py`` creates it on first use). Then it times Concord in this process and
Synapse in that one pass by pass, alternating, so that both see the same load; checks
that both servers resolve the forks to the same state, hash and sign to the same bytes,
and verify each other's events; and prints Concord's and Synapse's times with the ratio
Synapse / Concord (above 1: Concord is faster). Absolute times on these machines are
noise; the ratio is the figure.

    .venv/bin/python benchmarks/compare_protocol.py [--version 11|12] [--keep DATASET.json]

Exits 1 if the two implementations disagree on a result.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

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


class ConcordStateRes:
    """The bench_state_res room for one room version; ``run_once`` times a resolution."""

    def __init__(self, identifier: str) -> None:
        self.name = f"v{identifier}"
        self.identifier = identifier
        self.version = room_version(identifier)
        self.room, self.fork_a, self.fork_b = bench_state_res.build(self.version)
        self.timings = Timings()
        self.results: list[dict[StateKey, str]] = []

    def run_once(self) -> None:
        fetch = self.room.events.get
        self.timings.start()
        resolved = resolve_state(self.version, [self.fork_a, self.fork_b], fetch)
        self.timings.stop()
        self.results.append(resolved)

    def case(self) -> dict[str, Any]:
        """The room as synapse_protocol.py reads it."""
        events = self.room.events.values()  # creation order: auth events first
        return {
            "name": self.name,
            "room_version": self.identifier,
            "room_id": self.room.room_id,
            "events": [
                {"event_id": e.event_id, "pdu": e.pdu, "rejected": e.rejected} for e in events
            ],
            "state_sets": [
                [[t, k, e] for (t, k), e in s.items()] for s in (self.fork_a, self.fork_b)
            ],
        }

    def report(self) -> dict[str, Any]:
        first = self.results[0]
        return {
            "name": self.name,
            **self.timings.summary(),
            "stable": all(r == first for r in self.results),
            "resolved": first,
            "conflicted": bench_state_res.conflicted_count(self.fork_a, self.fork_b),
            "dag_events": len(self.room.events),
            "state_events": len(self.fork_a),
            "event_types": {e.event_id: e.type for e in self.room.events.values()},
            "differs_a": _differing_keys(first, self.fork_a),
            "differs_b": _differing_keys(first, self.fork_b),
        }


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


class ConcordSigning:
    """The bench_signing events: the same passes as bench_signing.py, one at a time.

    Hash+sign every unsigned PDU; verify the signatures and content hash of the signed
    events, parsed into Events beforehand (as they are when they arrive).
    """

    def __init__(self, identifier: str) -> None:
        self.identifier = identifier
        self.version = room_version(identifier)
        self.key = bench_signing.signing_key()
        self.unsigned = bench_signing.make_unsigned_events(self.version, bench_signing.EVENTS)
        # Signed once untimed, for Synapse to verify and for the first verify pass here.
        self.signed = [hash_and_sign_event(pdu, self.key, self.version) for pdu in self.unsigned]
        self.keys = {
            (self.key.server_name, self.key.key_id): VerifyKeyInfo.decode(self.key.verify_key)
        }
        self.received = [Event(json.loads(json.dumps(p)), self.version) for p in self.signed]
        self.sign = Timings()
        self.verify = Timings()
        self.failures = 0

    def sign_once(self) -> None:
        key, version = self.key, self.version
        self.sign.start()
        signed = [hash_and_sign_event(pdu, key, version) for pdu in self.unsigned]
        self.sign.stop()
        self.signed = signed

    def verify_once(self) -> None:
        keys = self.keys
        self.verify.start()
        for event in self.received:
            verify_event_signatures(event, keys)
            if not check_content_hash(event):
                self.failures += 1
        self.verify.stop()

    def case(self) -> dict[str, Any]:
        """The events as synapse_protocol.py reads them."""
        return {
            "room_version": self.identifier,
            "server_name": self.key.server_name,
            "key_version": self.key.version,
            "key_seed": bench_signing.KEY_SEED,
            "unsigned": self.unsigned,
            "signed": self.signed,
        }

    def report(self) -> dict[str, Any]:
        return {
            "events": len(self.unsigned),
            "sign": self.sign.summary(),
            "verify": self.verify.summary(),
            "signed_digest": signature_digest(self.signed, self.key.server_name, self.key.key_id),
            "verify_failures": self.failures,
        }


# -- running Synapse -----------------------------------------------------------------


class SynapseWorker:
    """synapse_protocol.py --serve in the Synapse venv: one timed pass per command."""

    def __init__(self, dataset: Path, workdir: Path) -> None:
        python = synapse_env.ensure_synapse_venv()
        self._stderr = (workdir / "synapse-stderr.txt").open("w+", encoding="utf-8")
        self._proc = subprocess.Popen(
            [str(python), str(HERE / "synapse_protocol.py"), "--serve", str(dataset)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            cwd=workdir,
        )
        self._watchdog = threading.Timer(SYNAPSE_TIMEOUT_S, self._proc.kill)
        self._watchdog.start()
        self._read()  # {"ready": true} once its events are built

    def _read(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            if line.startswith("{"):
                answer: dict[str, Any] = json.loads(line)
                return answer
        self._fail()

    def _fail(self) -> NoReturn:
        self._watchdog.cancel()
        self._proc.kill()
        self._proc.wait()
        self._stderr.seek(0)
        sys.stderr.write(self._stderr.read())
        raise SystemExit(
            f"synapse_protocol.py stopped (exit code {self._proc.returncode});"
            f" its limit is {SYNAPSE_TIMEOUT_S} s"
        )

    def do(self, command: dict[str, Any]) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(json.dumps(command) + "\n")
            self._proc.stdin.flush()
        except BrokenPipeError:
            self._fail()
        self._read()

    def report(self) -> dict[str, Any]:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps({"do": "report"}) + "\n")
        self._proc.stdin.close()
        result = self._read()
        self._proc.wait()
        self._watchdog.cancel()
        self._stderr.close()
        return result


def interleave(runs: int, concord: Callable[[], None], synapse: Callable[[], None]) -> None:
    """``runs`` passes of each, alternating which goes first, so both see the same load."""
    for run in range(runs):
        first, second = (concord, synapse) if run % 2 == 0 else (synapse, concord)
        first()
        second()


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
    rooms = [ConcordStateRes(identifier) for identifier in versions]
    signing = ConcordSigning(args.signing_version)
    runs = bench_signing.RUNS
    dataset = {
        "runs": {"state_res": STATE_RES_RUNS, "signing": runs},
        "state_res": [room.case() for room in rooms],
        "signing": signing.case(),
    }
    print(f"datasets built in {time.perf_counter() - started:.0f} s; starting Synapse", flush=True)
    with tempfile.TemporaryDirectory(prefix="concord-bench-") as tmp:
        path = args.keep or Path(tmp) / "dataset.json"
        path.write_text(json.dumps(dataset), encoding="utf-8")
        worker = SynapseWorker(path, Path(tmp))
        for index, room in enumerate(rooms):
            command = {"do": "state_res", "case": index}
            interleave(STATE_RES_RUNS, room.run_once, functools.partial(worker.do, command))
            print(f"state res {room.name} timed", flush=True)
        interleave(runs, signing.sign_once, lambda: worker.do({"do": "sign"}))
        interleave(runs, signing.verify_once, lambda: worker.do({"do": "verify"}))
        synapse = worker.report()
    concord_state = [room.report() for room in rooms]
    concord_signing = signing.report()

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
    print(
        f"Concord vs Synapse {synapse['synapse']}: same machine, same run, passes interleaved,"
        " one core each"
    )
    print(HEADER)
    for ours, theirs in zip(concord_state, synapse["state_res"], strict=True):
        print(_row(f"state res, two forks, room {ours['name']}", ours, theirs))
        print(_row("  Synapse less our in-memory store", ours, theirs["less_store"]))
    events = concord_signing["events"]
    for step, label in (("sign", "hash+sign"), ("verify", "verify")):
        what = f"{label} {events} events, room v{args.signing_version}"
        print(_row(what, concord_signing[step], their_signing[step], events))
    print()
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
