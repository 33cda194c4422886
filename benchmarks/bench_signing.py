"""Benchmark: hash+sign and verify throughput of realistic events on one core.

The dataset is a room's worth of events as a busy room sees them: mostly
``m.room.message`` events with a few hundred bytes of content (about 750 bytes as a
PDU), and membership events (joins with a display name and avatar, leaves, invites).
Each is hashed and signed with ``hash_and_sign_event``; then the signed events, parsed
into ``Event`` objects outside the timed loop (as they are when they arrive), are
checked with ``verify_event_signatures`` and ``check_content_hash``.

Run from the repository root:

    .venv/bin/python benchmarks/bench_signing.py [--version 11] [--events 2000] [--profile]

Targets: >= 5,000 events/s for hash+sign and for verify, each on one core. Rates are
events per second of this process's CPU time (``time.process_time``; the work is
single-threaded), so that other load on the machine does not decide the verdict; the
wall-clock rate is printed beside it.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import statistics
import string
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from homeserver.protocol.canonical import JsonDict, encode_canonical_json
from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import RoomVersion, room_version
from homeserver.protocol.signing import (
    SigningKey,
    VerifyKeyInfo,
    check_content_hash,
    hash_and_sign_event,
    verify_event_signatures,
)

TARGET_EVENTS_PER_S = 5_000
SERVER_NAME = "bench.example.com"
KEY_VERSION = "bench1"
KEY_SEED = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1"  # the spec's test vector seed
EVENTS = 2_000
RUNS = 5
MESSAGE_SHARE = 0.8


def signing_key() -> SigningKey:
    return SigningKey.from_seed(SERVER_NAME, KEY_VERSION, KEY_SEED)


def _words(rng: random.Random, length: int) -> str:
    out: list[str] = []
    while sum(len(w) + 1 for w in out) < length:
        out.append("".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9))))
    return " ".join(out)[:length]


def _event_id(rng: random.Random) -> str:
    return "$" + "".join(rng.choices(string.ascii_letters + string.digits + "-_", k=43))


def make_unsigned_events(
    version: RoomVersion, count: int = EVENTS, seed: int = 1
) -> list[JsonDict]:
    """``count`` unsigned PDUs for ``version``: ~80% messages, the rest members."""
    rng = random.Random(seed)
    room_id = "!" + "".join(rng.choices(string.ascii_letters, k=18)) + ":" + SERVER_NAME
    users = [f"@user{i}:{SERVER_NAME}" for i in range(200)]
    auth = [_event_id(rng) for _ in range(3)]
    events: list[JsonDict] = []
    for depth in range(10, 10 + count):
        sender = rng.choice(users)
        pdu: JsonDict = {
            "room_id": room_id,
            "sender": sender,
            "origin_server_ts": 1_700_000_000_000 + depth * 731,
            "depth": depth,
            "prev_events": [_event_id(rng)],
            "auth_events": [*auth, _event_id(rng)],
            "hashes": {},
            "signatures": {},
            "unsigned": {"age_ts": 1_700_000_000_000 + depth * 731},
        }
        if version.event_id_in_event:
            pdu["event_id"] = f"$ev{depth}:{SERVER_NAME}"
            pdu["prev_events"] = [[e, {"sha256": "x" * 43}] for e in pdu["prev_events"]]
            pdu["auth_events"] = [[e, {"sha256": "x" * 43}] for e in pdu["auth_events"]]
        if rng.random() < MESSAGE_SHARE:
            pdu["type"] = "m.room.message"
            body = _words(rng, rng.randint(60, 260))
            content: JsonDict = {"msgtype": "m.text", "body": body}
            if rng.random() < 0.4:  # rich text, as clients send for formatting
                content["format"] = "org.matrix.custom.html"
                content["formatted_body"] = f"<p>{body}</p>"
            pdu["content"] = content
        else:
            membership = rng.choice(["join", "join", "join", "leave", "invite"])
            target = sender if membership != "invite" else rng.choice(users)
            pdu["type"] = "m.room.member"
            pdu["state_key"] = target
            content = {"membership": membership}
            if membership != "leave":
                content["displayname"] = _words(rng, 14).title()
                content["avatar_url"] = f"mxc://{SERVER_NAME}/" + "".join(
                    rng.choices(string.ascii_letters, k=24)
                )
            pdu["content"] = content
        events.append(pdu)
    return events


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def bench(version: RoomVersion, count: int, runs: int) -> dict[str, Any]:
    key = signing_key()
    unsigned = make_unsigned_events(version, count)
    messages = [p for p in unsigned if p["type"] == "m.room.message"]
    message_sizes = [len(encode_canonical_json(p, strict=False)) for p in messages]
    content_sizes = [len(encode_canonical_json(p["content"], strict=False)) for p in messages]

    sign_times: list[float] = []
    sign_walls: list[float] = []
    signed: list[JsonDict] = []
    for _ in range(runs):
        wall, started = time.perf_counter(), time.process_time()
        signed = [hash_and_sign_event(pdu, key, version) for pdu in unsigned]
        sign_times.append(time.process_time() - started)
        sign_walls.append(time.perf_counter() - wall)
    signed_sizes = [len(encode_canonical_json(p, strict=False)) for p in signed]

    keys = {(SERVER_NAME, key.key_id): VerifyKeyInfo.decode(key.verify_key, None)}
    # As received: JSON off the wire, parsed into Events before verification.
    received = [Event(json.loads(json.dumps(p)), version) for p in signed]
    verify_times: list[float] = []
    verify_walls: list[float] = []
    failures = 0
    for _ in range(runs):
        wall, started = time.perf_counter(), time.process_time()
        for event in received:
            verify_event_signatures(event, keys)
            if not check_content_hash(event):
                failures += 1
        verify_times.append(time.process_time() - started)
        verify_walls.append(time.perf_counter() - wall)
    return {
        "count": count,
        "message_bytes": statistics.median(message_sizes),
        "content_bytes": statistics.median(content_sizes),
        "signed_bytes": statistics.median(signed_sizes),
        "sign_rate": _rate(count, statistics.median(sign_times)),
        "sign_best": _rate(count, min(sign_times)),
        "sign_wall": _rate(count, statistics.median(sign_walls)),
        "verify_rate": _rate(count, statistics.median(verify_times)),
        "verify_best": _rate(count, min(verify_times)),
        "verify_wall": _rate(count, statistics.median(verify_walls)),
        "failures": failures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", default="11", help="room version (default 11)")
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one run")
    args = parser.parse_args()
    version = room_version(args.version)

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        bench(version, args.events, 1)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)

    result = bench(version, args.events, args.runs)
    print(
        f"room v{version.identifier}: {result['count']} events, 80% m.room.message (median"
        f" {result['message_bytes']:.0f} bytes as a PDU, {result['content_bytes']:.0f} of them"
        f" content), 20% m.room.member; median {result['signed_bytes']:.0f} bytes signed;"
        f" median of {args.runs} runs, one core"
    )
    ok = True
    for label, rate, best, wall in (
        ("hash+sign", result["sign_rate"], result["sign_best"], result["sign_wall"]),
        (
            "verify (signatures + content hash)",
            result["verify_rate"],
            result["verify_best"],
            result["verify_wall"],
        ),
    ):
        met = rate >= TARGET_EVENTS_PER_S
        ok &= met
        verdict = "target met" if met else "TARGET MISSED"
        print(
            f"  {label:<36} {rate:>7,.0f} events/s CPU (best {best:,.0f}, wall {wall:,.0f})"
            f"  target >= {TARGET_EVENTS_PER_S:,}: {verdict}"
        )
    if result["failures"]:
        print(f"  {result['failures']} events failed verification: BUG")
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
