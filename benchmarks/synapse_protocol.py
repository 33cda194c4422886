# mypy: ignore-errors
"""Time Synapse's own protocol code on a dataset written by ``compare_protocol.py``.

Runs INSIDE the Synapse venv (``benchmarks/synapse_env.py``), never in Concord's:

    .bench/synapse-venv/bin/python benchmarks/synapse_protocol.py [--serve] DATASET.json

and prints one JSON line on stdout with the timings and results. With ``--serve`` it
first prints ``{"ready": true}``, then runs one timed pass per command read from stdin
(``{"do": "state_res", "case": 0}``, ``{"do": "sign"}``, ``{"do": "verify"}``),
answering each with ``{"done": ...}``, until ``{"do": "report"}`` or the end of input:
compare_protocol.py interleaves those passes with Concord's, so that both servers are
timed under the same load. What it times:

- state resolution: ``synapse.state.v2.resolve_events_with_store`` (v2 and v2.1), driven
  by a twisted reactor, with an in-memory ``StateResolutionStore`` written here (Synapse
  answers ``get_auth_chain_difference`` from its chain cover index in the database; ours
  walks the auth DAG of the events in memory, and its time is reported apart);
- hashing and signing: ``synapse.crypto.event_signing.add_hashes_and_signatures``;
- verification: what Synapse does per received PDU once the key is known —
  ``VerifyJsonRequest.from_event`` (the redacted copy), ``signedjson``'s
  ``verify_signed_json`` (as ``Keyring.process_json``) and
  ``check_event_content_hash``, on events built from the PDU JSON beforehand.

Event ids: the datasets of the Concord benchmarks use short made-up event ids
(``$e17``) for room versions whose ids are reference hashes. Synapse always derives the
id from the hash, so the DAG is rebuilt here in creation order with each event's
``auth_events``/``prev_events`` (and, in v12, ``room_id``) rewritten to Synapse's ids;
results are mapped back to the dataset's ids. When timestamps are distinct per event (as in
bench_state_res.py; reported as ``distinct_timestamps``) ids never decide an ordering, so
the mapping cannot change the resolved state.

Dataset (JSON):
    {"runs": {"state_res": 7, "signing": 5} (passes each, without --serve),
     "state_res": [{"name", "room_version", "room_id",
                    "events": [{"event_id", "pdu", "rejected"}] (auth events first),
                    "state_sets": [[[type, state_key, event_id], ...], ...]}],
     "signing": {"room_version", "server_name", "key_version", "key_seed",
                 "unsigned": [pdu, ...], "signed": [pdu, ...]} or null}
"""

from __future__ import annotations

import hashlib
import json
import statistics
import sys
import time
from importlib.metadata import version
from typing import Any

# synapse.state must not be the first Synapse module imported (circular import).
import synapse.event_auth  # noqa: F401
from signedjson.key import decode_signing_key_base64, get_verify_key
from signedjson.sign import verify_signed_json
from synapse.api.room_versions import KNOWN_ROOM_VERSIONS
from synapse.crypto.event_signing import add_hashes_and_signatures, check_event_content_hash
from synapse.crypto.keyring import VerifyJsonRequest
from synapse.events import make_event_from_dict
from synapse.state import v2 as state_v2
from synapse.storage.databases.main.event_federation import StateDifference
from twisted.internet import defer, task


class Timings:
    """Wall-clock and CPU (process) time of repeated runs, in milliseconds.

    CPU time is reported too because the machines are shared: a process that waits for a
    core loses wall time but not CPU time.
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


class ReactorClock:
    """The clock state resolution awaits on: ``sleep`` yields to the twisted reactor."""

    def __init__(self, reactor) -> None:
        self._reactor = reactor

    async def sleep(self, duration) -> None:
        waiter: defer.Deferred[None] = defer.Deferred()
        self._reactor.callLater(duration.total_seconds(), waiter.callback, None)
        await waiter


class MemoryStateResStore:
    """What ``resolve_events_with_store`` asks of its store, answered from a dict.

    ``get_auth_chain_difference`` follows the contract of Synapse's database version: a
    state set's auth chain includes the state events themselves; for v2.1 the
    conflicted subgraph is every event that is both reachable from a conflicted event
    (itself included) by auth edges and reaches one. ``wall``/``cpu`` add up the time
    spent in here, in seconds.
    """

    def __init__(self, events: dict[str, Any]) -> None:
        self._events = events
        # The auth edges, read once as Synapse's event_auth table holds them.
        self._auth = {event_id: tuple(e.auth_event_ids()) for event_id, e in events.items()}
        self.wall = self.cpu = 0.0

    def _start(self) -> tuple[float, float]:
        return time.perf_counter(), time.process_time()

    def _stop(self, started: tuple[float, float]) -> None:
        self.wall += time.perf_counter() - started[0]
        self.cpu += time.process_time() - started[1]

    async def get_events(self, event_ids, allow_rejected: bool = False) -> dict[str, Any]:
        started = self._start()
        found = {}
        for event_id in event_ids:
            event = self._events.get(event_id)
            if event is not None and (allow_rejected or event.rejected_reason is None):
                found[event_id] = event
        self._stop(started)
        return found

    def _walk(self, start, stop=frozenset()) -> set[str]:
        """``start`` and everything in their auth chains, not walking into ``stop``."""
        auth = self._auth
        seen = {e for e in start if e not in stop}
        frontier = list(seen)
        while frontier:
            following = []
            for event_id in frontier:
                for auth_id in auth.get(event_id, ()):
                    if auth_id not in seen and auth_id not in stop:
                        seen.add(auth_id)
                        following.append(auth_id)
            frontier = following
        return seen

    def _conflicted_subgraph(self, conflicted: set[str]) -> set[str]:
        backwards = self._walk(conflicted)
        children: dict[str, list[str]] = {}
        for event_id in backwards:
            for auth_id in self._auth.get(event_id, ()):
                children.setdefault(auth_id, []).append(event_id)
        forwards = set(conflicted)
        frontier = list(conflicted)
        while frontier:
            following = []
            for event_id in frontier:
                for child in children.get(event_id, ()):
                    if child not in forwards:
                        forwards.add(child)
                        following.append(child)
            frontier = following
        return backwards & forwards

    async def get_auth_chain_difference(
        self,
        room_id: str,
        state_sets: list[set[str]],
        conflicted_state: set[str] | None,
        additional_backwards_reachable_conflicted_events: set[str] | None,
    ) -> StateDifference:
        started = self._start()
        # Everything reachable from the events all sets share is in every auth chain.
        common = self._walk(set.intersection(*map(set, state_sets)))
        chains = [self._walk(set(s), stop=common) for s in state_sets]
        union = set().union(*chains)
        difference = union - set.intersection(*chains)
        subgraph = None
        if conflicted_state is not None:
            subgraph = self._conflicted_subgraph(
                set(conflicted_state) | set(additional_backwards_reachable_conflicted_events or ())
            )
        self._stop(started)
        return StateDifference(auth_difference=difference, conflicted_subgraph=subgraph)


def _rebuild_dag(case: dict[str, Any], room_version) -> tuple[dict[str, Any], dict[str, str]]:
    """Synapse events for the dataset's events, and dataset id -> Synapse id."""
    to_synapse: dict[str, str] = {}
    events: dict[str, Any] = {}
    room_id = case["room_id"]
    for entry in case["events"]:
        pdu = dict(entry["pdu"])
        for field in ("auth_events", "prev_events"):
            pdu[field] = [to_synapse[e] for e in pdu[field]]
        if "room_id" in pdu:
            pdu["room_id"] = room_id
        event = make_event_from_dict(
            pdu, room_version, rejected_reason="rejected" if entry.get("rejected") else None
        )
        if event.type == "m.room.create" and "room_id" not in pdu:
            room_id = event.room_id  # v12: the room id is derived from the create event
        to_synapse[entry["event_id"]] = event.event_id
        events[event.event_id] = event
    return events, to_synapse


class StateResCase:
    """One room of the dataset, rebuilt as Synapse events; ``run_once`` times a resolution."""

    def __init__(self, reactor, case: dict[str, Any]) -> None:
        self.name = case["name"]
        self.room_version = KNOWN_ROOM_VERSIONS[case["room_version"]]
        self.events, to_synapse = _rebuild_dag(case, self.room_version)
        self.from_synapse = {v: k for k, v in to_synapse.items()}
        self.room_id = next(iter(self.events.values())).room_id
        self.state_sets = [{(t, k): to_synapse[e] for t, k, e in s} for s in case["state_sets"]]
        self.clock = ReactorClock(reactor)
        self.store = MemoryStateResStore(self.events)
        self.timings = Timings()
        self.less_store = Timings()  # the same runs less the time spent in our store
        self.resolved: list[dict[tuple[str, str], str]] = []

    async def run_once(self) -> None:
        store = self.store
        store.wall = store.cpu = 0.0
        self.timings.start()
        resolved = await state_v2.resolve_events_with_store(
            self.clock, self.room_id, self.room_version, self.state_sets, None, store
        )
        self.timings.stop()
        self.less_store.wall.append(self.timings.wall[-1] - store.wall * 1000)
        self.less_store.cpu.append(self.timings.cpu[-1] - store.cpu * 1000)
        self.resolved.append(dict(resolved))

    def report(self) -> dict[str, Any]:
        first = self.resolved[0]
        events = self.events.values()
        return {
            "name": self.name,
            **self.timings.summary(),
            "less_store": self.less_store.summary(),
            "stable": all(r == first for r in self.resolved),
            "distinct_timestamps": len({e.origin_server_ts for e in events}) == len(events),
            "resolved": sorted([t, k, self.from_synapse[e]] for (t, k), e in first.items()),
        }


def _signature_digest(pdus: list[dict[str, Any]], server_name: str, key_id: str) -> str:
    lines = [f"{p['hashes']['sha256']} {p['signatures'][server_name][key_id]}" for p in pdus]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


class SigningCase:
    """Hash+sign the unsigned PDUs, and verify the signed ones, one pass at a time."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.room_version = KNOWN_ROOM_VERSIONS[spec["room_version"]]
        self.server_name = spec["server_name"]
        self.key_id = f"ed25519:{spec['key_version']}"
        self.signing_key = decode_signing_key_base64(
            "ed25519", spec["key_version"], spec["key_seed"]
        )
        self.verify_key = get_verify_key(self.signing_key)
        self.unsigned = spec["unsigned"]
        # The events as Synapse holds them after parsing the received PDUs.
        self.received = [make_event_from_dict(p, self.room_version) for p in spec["signed"]]
        self.sign = Timings()
        self.verify = Timings()
        self.signed: list[dict[str, Any]] = []
        self.failures = 0

    def sign_once(self) -> None:
        # add_hashes_and_signatures fills in the dict it is given: copies made untimed.
        batch = [{**p, "hashes": dict(p.get("hashes", {}))} for p in self.unsigned]
        self.sign.start()
        for pdu in batch:
            add_hashes_and_signatures(self.room_version, pdu, self.server_name, self.signing_key)
        self.sign.stop()
        self.signed = batch

    def verify_once(self) -> None:
        server_name, verify_key = self.server_name, self.verify_key
        self.verify.start()
        for event in self.received:
            request = VerifyJsonRequest.from_event(server_name, event, 0)
            try:
                verify_signed_json(request.get_json_object(), server_name, verify_key)
            except Exception:
                self.failures += 1
            if not check_event_content_hash(event):
                self.failures += 1
        self.verify.stop()

    def report(self) -> dict[str, Any]:
        return {
            "events_signed": len(self.unsigned),
            "sign": self.sign.summary(),
            "signed_digest": _signature_digest(self.signed, self.server_name, self.key_id),
            "events_verified": len(self.received),
            "verify": self.verify.summary(),
            "verify_failures": self.failures,
        }


def _write(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def _run(reactor, dataset: dict[str, Any], serve: bool) -> None:
    cases = [StateResCase(reactor, case) for case in dataset.get("state_res", [])]
    spec = dataset.get("signing")
    signing = SigningCase(spec) if spec else None
    if serve:
        # One pass per command line, so that the caller can interleave its own passes.
        _write({"ready": True})
        for line in sys.stdin:
            command = json.loads(line)
            if command["do"] == "state_res":
                await cases[command["case"]].run_once()
            elif command["do"] == "sign":
                signing.sign_once()
            elif command["do"] == "verify":
                signing.verify_once()
            elif command["do"] == "report":
                break
            _write({"done": command["do"]})
    else:
        for case in cases:
            for _ in range(dataset["runs"]["state_res"]):
                await case.run_once()
        if signing:
            for _ in range(dataset["runs"]["signing"]):
                signing.sign_once()
            for _ in range(dataset["runs"]["signing"]):
                signing.verify_once()
    _write(
        {
            "synapse": version("matrix-synapse"),
            "state_res": [case.report() for case in cases],
            "signing": signing.report() if signing else None,
        }
    )


def main() -> None:
    args = sys.argv[1:]
    serve = "--serve" in args
    paths = [a for a in args if a != "--serve"]
    if len(paths) != 1:
        raise SystemExit("usage: synapse_protocol.py [--serve] DATASET.json")
    with open(paths[0], encoding="utf-8") as handle:
        dataset = json.load(handle)
    # task.react runs the reactor until ``_run`` finishes, then exits the process.
    task.react(lambda reactor: defer.ensureDeferred(_run(reactor, dataset, serve)))


if __name__ == "__main__":
    main()
