"""Benchmark: resolve two forks of a large room.

Builds a synthetic room with 10,000 state events (5,000 members, the rest custom state
and the usual room state), every event valid per the real authorization rules and
citing the auth events the auth events selection gives. Two forks then diverge with
concurrent membership changes (joins, leaves, kicks, bans, display names), power level
changes, topic changes and custom state changes by several users, so that the
conflicted state set holds about 1,000 events. ``resolve_state`` is run several times
on the two forks.

Run from the repository root:

    .venv/bin/python benchmarks/bench_state_res.py [--profile] [--version 11|12]

Target: <= 200 ms per resolution (min and median are printed).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from homeserver.protocol.auth import check_auth_rules
from homeserver.protocol.auth_events import auth_types_for_event
from homeserver.protocol.events import Event
from homeserver.protocol.room_versions import RoomVersion, room_version
from homeserver.protocol.state_res import resolve_state

TARGET_MS = 200.0
STATE_EVENTS = 10_000
MEMBERS = 5_000
CONFLICTED_TARGET = 1_000
RUNS = 9

StateKey = tuple[str, str]
Branch = dict[StateKey, str]


class Room:
    def __init__(self, version: RoomVersion, seed: int) -> None:
        self.version = version
        self.rng = random.Random(seed)
        self.events: dict[str, Event] = {}
        self.counter = 0
        self.room_id = "!bench:example.com"
        self.creator = "@admin:example.com"
        self.last: dict[int, str] = {}  # id(branch) -> its latest event, the prev_event

    def send(
        self, branch: Branch, event_type: str, state_key: str, sender: str, content: dict[str, Any]
    ) -> Event:
        self.counter += 1
        event_id = f"$e{self.counter}"
        if event_type == "m.room.create" and self.version.room_id_from_create_event:
            self.room_id = "!" + event_id[1:]
        keys = auth_types_for_event(self.version, event_type, state_key, sender, content)
        auth_ids = [branch[key] for key in keys if key in branch]
        pdu: dict[str, Any] = {
            "type": event_type,
            "state_key": state_key,
            "sender": sender,
            "content": content,
            "origin_server_ts": 1_700_000_000_000 + self.counter,
            "depth": self.counter,
            "prev_events": [self.last[id(branch)]] if id(branch) in self.last else [],
            "auth_events": auth_ids,
            "hashes": {"sha256": "placeholder"},
            "signatures": {},
        }
        if not (event_type == "m.room.create" and self.version.room_id_from_create_event):
            pdu["room_id"] = self.room_id
        event = Event(pdu, self.version, event_id=event_id)
        # Only valid events: the benchmark must exercise the real rules, not failures.
        # (The rules read the create event and the keys of the auth events selection.)
        needed = [*keys, ("m.room.create", "")]
        check_auth_rules(event, {k: self.events[branch[k]] for k in needed if k in branch})
        self.events[event_id] = event
        branch[(event_type, state_key)] = event_id
        self.last[id(branch)] = event_id
        return event

    def fork(self, branch: Branch) -> Branch:
        copy = dict(branch)
        self.last[id(copy)] = self.last[id(branch)]
        return copy


def power_content(room: Room, users: dict[str, int], **extra: Any) -> dict[str, Any]:
    listed = dict(users)
    if room.version.privileged_creators:
        listed.pop(room.creator, None)
    else:
        listed[room.creator] = 100
    return {"users": listed, "events": {"org.example.data": 0}, **extra}


def build(version: RoomVersion, seed: int = 1) -> tuple[Room, Branch, Branch]:
    room = Room(version, seed)
    rng = room.rng
    admin = room.creator
    base: Branch = {}
    create: dict[str, Any] = {"room_version": version.identifier}
    if not version.implicit_room_creator:
        create["creator"] = admin
    room.send(base, "m.room.create", "", admin, create)
    room.send(base, "m.room.member", admin, admin, {"membership": "join"})
    mods = [f"@mod{i}:example.com" for i in range(8)]
    users = {m: 50 for m in mods}
    room.send(base, "m.room.power_levels", "", admin, power_content(room, users))
    room.send(base, "m.room.join_rules", "", admin, {"join_rule": "public"})
    room.send(base, "m.room.history_visibility", "", admin, {"history_visibility": "shared"})
    for mod in mods:
        room.send(base, "m.room.member", mod, mod, {"membership": "join"})

    members = [f"@user{i}:server{i % 40}.example" for i in range(MEMBERS - 1 - len(mods))]
    for i, user in enumerate(members):
        if i % 5 == 0:  # some were invited by a moderator first
            room.send(base, "m.room.member", user, rng.choice(mods), {"membership": "invite"})
        room.send(base, "m.room.member", user, user, {"membership": "join"})
        if i % 7 == 0:  # and some changed their display name since
            room.send(base, "m.room.member", user, user, {"membership": "join", "displayname": "x"})
        if i % 1000 == 999:  # the power levels changed over the room's life
            users[user] = 10
            room.send(base, "m.room.power_levels", "", admin, power_content(room, users))
    room.send(base, "m.room.topic", "", admin, {"topic": "base"})
    data_senders = members[:2000]
    index = 0
    while len(base) < STATE_EVENTS:
        room.send(base, "org.example.data", str(index), rng.choice(data_senders), {"value": index})
        index += 1
    assert len(base) == STATE_EVENTS
    assert sum(1 for k in base if k[0] == "m.room.member") == MEMBERS

    forks = (room.fork(base), room.fork(base))
    # Each fork touches its own keys (each such key gives two conflicted events: the
    # fork's and the base's) plus a few keys both touch.
    pool = list(members[100:])
    rng.shuffle(pool)
    per_fork = CONFLICTED_TARGET * 3 // 10
    for n, fork in enumerate(forks):
        mod = mods[n]
        fork_users = dict(users)
        for step in range(per_fork):
            kind = step % 10
            if kind == 0:
                target = pool.pop()
                room.send(fork, "m.room.member", target, mod, {"membership": "ban"})
            elif kind == 1:
                target = pool.pop()
                room.send(fork, "m.room.member", target, mod, {"membership": "leave"})
            elif kind == 2:
                target = pool.pop()
                room.send(fork, "m.room.member", target, target, {"membership": "leave"})
            elif kind == 3:
                new = f"@new{n}-{step}:fork{n}.example"
                room.send(fork, "m.room.member", new, new, {"membership": "join"})
            elif kind == 4:
                target = pool.pop()
                content = {"membership": "join", "displayname": f"fork{n}"}
                room.send(fork, "m.room.member", target, target, content)
            elif kind == 5 and step % 50 == 5:
                fork_users[members[step]] = 5
                room.send(fork, "m.room.power_levels", "", admin, power_content(room, fork_users))
            elif kind == 6 and step % 20 == 6:
                room.send(fork, "m.room.topic", "", mods[n + 2], {"topic": f"fork{n}-{step}"})
            else:
                key = str(rng.randrange(index))
                sender = members[rng.randrange(2000)]
                if fork[("m.room.member", sender)] != base[("m.room.member", sender)]:
                    continue
                room.send(fork, "org.example.data", key, sender, {"value": f"{n}-{step}"})
    return room, forks[0], forks[1]


def conflicted_count(a: Branch, b: Branch) -> int:
    keys = set(a) | set(b)
    return sum(len({a.get(k), b.get(k)} - {None}) for k in keys if a.get(k) != b.get(k))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--version", default=None, help="room version (default: 11 and 12)")
    args = parser.parse_args()
    versions = [args.version] if args.version else ["11", "12"]
    all_ok = True
    for identifier in versions:
        version = room_version(identifier)
        started = time.perf_counter()
        room, a, b = build(version)
        built = time.perf_counter() - started
        fetch = room.events.get
        print(
            f"room v{identifier}: {len(a)}/{len(b)} state events,"
            f" {sum(1 for k in a if k[0] == 'm.room.member')} members,"
            f" {conflicted_count(a, b)} conflicted events, {len(room.events)} events in the DAG"
            f" (built in {built:.1f} s)"
        )
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            resolve_state(version, [a, b], fetch)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        wall: list[float] = []
        cpu: list[float] = []
        result: dict[StateKey, str] | None = None
        for _ in range(RUNS):
            started, started_cpu = time.perf_counter(), time.process_time()
            resolved = resolve_state(version, [a, b], fetch)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            assert result is None or resolved == result
            result = resolved
        # Judged on CPU time: resolution is single-threaded, and CPU time does not count
        # the time other processes on a busy machine take from us (wall time does).
        ok = statistics.median(cpu) <= TARGET_MS
        all_ok &= ok
        print(
            f"  resolve_state wall: min {min(wall):.1f} ms, median {statistics.median(wall):.1f}"
            f" ms; CPU: min {min(cpu):.1f} ms, median {statistics.median(cpu):.1f} ms"
            f" ({RUNS} runs, load average {os.getloadavg()[0]:.1f})"
            f" -> {'meets' if ok else 'MISSES'} the {TARGET_MS:.0f} ms target"
        )
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
