"""Joining a big room over federation: Concord against a second Synapse, same run.

    .venv/bin/python benchmarks/bench_federation_join.py [--members 2000] [--events 10000]
        [--room-version 10] [--workers 6] [--quick]          (or: make bench-federation)

Synapse A (Synapse 1.163.2 from ``.venv-synapse``, made by ``make synapse``) gets a public
room with ``--members`` members and ``--events`` events in all (the create events, one join
per member, messages for the rest). An application service registered with A makes and
joins the users quickly (no rate limits, no passwords, ``?user_id=`` masquerading) and
sends the messages, ``--workers`` requests at a time. Then, in this order:

    (a) a user on a second Synapse (B) joins the room from B,
    (b) a user on Concord (C) joins it from C       (--concord-first: (b) before (a)),

each timed from the /join request until its client sees one of the room's messages
(``/messages?dir=b`` polled; the latest message is what a client shows first). Printed:
join time, time to first message, and the ratio Concord/Synapse (goal: <= 1/3). A and B
are SQLite Synapses, C is Concord on SQLite, all on loopback; the machine is shared, so
only ratios from one run mean anything. Until Concord federates, (b) reports why it failed
and the exit status is 1. Every process is stopped by its pid, whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.interop.client import ApiError, MxUser, Peer, q, request  # noqa: E402
from tests.interop.concord_process import FederatedConcord  # noqa: E402
from tests.interop.processes import free_ports  # noqa: E402
from tests.interop.synapse_process import SynapseServer, synapse_python  # noqa: E402

AS_TOKEN = "bench-as-token-" + uuid.uuid4().hex
FIRST_MESSAGE_TIMEOUT = 600.0


@dataclass
class Result:
    side: str
    join_s: float | None = None
    first_message_s: float | None = None
    error: str | None = None


class AppService:
    """Requests to Synapse A as its application service (users ``@bench_*``)."""

    def __init__(self, peer: Peer) -> None:
        self.peer = peer

    def call(self, method: str, path: str, body: Any = None, user_id: str | None = None) -> Any:
        query = {"user_id": user_id} if user_id else None
        status, reply = request(
            self.peer.client_url, method, path, body, token=AS_TOKEN, query=query, timeout=120
        )
        if status != 200:
            raise ApiError(status, reply, f"appservice {method} {path}")
        return reply

    def register(self, localpart: str) -> str:
        body = {
            "type": "m.login.application_service",
            "username": localpart,
            "inhibit_login": True,
        }
        return str(self.call("POST", "/register", body)["user_id"])


def appservice_registration(path: Path, server_name: str) -> Path:
    # url null: Synapse pushes nothing to the AS (there is none running)
    registration = {
        "id": "bench-federation-join",
        "url": None,
        "as_token": AS_TOKEN,
        "hs_token": "bench-hs-token-" + uuid.uuid4().hex,
        "sender_localpart": "bench_bot",
        "rate_limited": False,
        "namespaces": {
            "users": [{"exclusive": True, "regex": f"@bench_.*:{server_name}"}],
            "aliases": [],
            "rooms": [],
        },
    }
    path.write_text(json.dumps(registration), encoding="utf-8")
    return path


def parallel(workers: int, items: list[Any], fn: Callable[[Any], Any], what: str) -> None:
    started = time.monotonic()
    done = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(fn, items):
            done += 1
            if done % 1000 == 0:
                rate = done / (time.monotonic() - started)
                print(f"    {what}: {done}/{len(items)} ({rate:.0f}/s)", flush=True)


def build_room(synapse_a: SynapseServer, args: argparse.Namespace) -> str:
    bot = AppService(synapse_a)
    bot_id = f"@bench_bot:{synapse_a.server_name}"
    room = str(
        bot.call(
            "POST",
            "/createRoom",
            {"preset": "public_chat", "room_version": args.room_version, "name": "big room"},
        )["room_id"]
    )
    t0 = time.monotonic()
    localparts = [f"bench_{i}" for i in range(args.members - 1)]  # + the bot
    users: list[str] = []
    parallel(args.workers, localparts, lambda lp: users.append(bot.register(lp)), "register")
    print(f"  registered {len(users)} users in {time.monotonic() - t0:.1f} s", flush=True)

    t0 = time.monotonic()
    parallel(
        args.workers, users, lambda u: bot.call("POST", f"/join/{q(room)}", {}, user_id=u), "join"
    )
    print(f"  joined {len(users)} users in {time.monotonic() - t0:.1f} s", flush=True)

    messages = max(1, args.events - args.members - 6)  # create, bot join, PL, rules, 2 state
    senders = [bot_id, *users]

    def send(i: int) -> None:
        path = f"/rooms/{q(room)}/send/m.room.message/bench{i}"
        content = {"msgtype": "m.text", "body": f"message {i}"}
        bot.call("PUT", path, content, user_id=senders[i % len(senders)])

    t0 = time.monotonic()
    parallel(args.workers, list(range(messages)), send, "send")
    print(f"  sent {messages} messages in {time.monotonic() - t0:.1f} s", flush=True)
    return room


def time_join(side: str, peer: Peer, room: str, via: str) -> Result:
    result = Result(side)
    try:
        user = MxUser.register(peer, "joiner")
        t0 = time.monotonic()
        user.join(room, via=via)
        result.join_s = time.monotonic() - t0
        deadline = t0 + FIRST_MESSAGE_TIMEOUT
        while True:
            status, page = user.call(
                "GET", f"/rooms/{q(room)}/messages", query={"dir": "b", "limit": "10"}
            )
            if status == 200 and any(
                ev.get("type") == "m.room.message" for ev in page.get("chunk", [])
            ):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"no message seen after {FIRST_MESSAGE_TIMEOUT:.0f} s")
            time.sleep(0.05)
        result.first_message_s = time.monotonic() - t0
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"[:600]
    return result


@contextlib.contextmanager
def running(*servers: SynapseServer | FederatedConcord) -> Iterator[None]:
    try:
        yield
    finally:
        for server in servers:
            with contextlib.suppress(Exception):
                server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--room-version", default="10")
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--quick", action="store_true", help="200 members, 1,000 events")
    parser.add_argument("--keep", action="store_true", help="keep the servers' data")
    parser.add_argument(
        "--concord-first", action="store_true", help="time Concord's join before Synapse B's"
    )
    args = parser.parse_args()
    if args.quick:
        args.members, args.events = 200, 1000
    if synapse_python() is None:
        print("Synapse is not installed: run `make synapse`", file=sys.stderr)
        return 2

    root = Path(tempfile.mkdtemp(prefix="bench-fedjoin-"))
    try:
        return run(args, root)
    finally:
        if args.keep:
            print(f"data kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def run(args: argparse.Namespace, root: Path) -> int:
    fed = free_ports(3)
    client = free_ports(3)
    names = [f"localhost:{port}" for port in fed]
    tls = root / "tls"
    registration = appservice_registration(root / "appservice.json", names[0])
    synapse_a = SynapseServer(
        root / "synapse-a",
        fed_port=fed[0],
        client_port=client[0],
        appservice_files=[registration],
        federation_domains=names,
        cert_dir=tls,
    )
    synapse_b = SynapseServer(
        root / "synapse-b",
        fed_port=fed[1],
        client_port=client[1],
        federation_domains=names,
        cert_dir=tls,
    )
    print(
        f"room: {args.members} members, {args.events} events, room version {args.room_version}",
        flush=True,
    )
    results: list[Result] = []
    with running(synapse_a, synapse_b):
        synapse_a.start()
        synapse_b.start()
        t0 = time.monotonic()
        room = build_room(synapse_a, args)
        print(f"  room {room} ready in {time.monotonic() - t0:.1f} s", flush=True)

        concord: FederatedConcord | None = None
        concord_error: str | None = None
        try:
            concord = FederatedConcord(
                root / "concord",
                fed_port=fed[2],
                client_port=client[2],
                federation_domains=names,
                cert_dir=tls,
                log_level="warning",
            )
            concord.start()
        except Exception as exc:
            concord_error = f"Concord did not start: {exc}"[:600]
        with running(*([concord] if concord else [])):
            order = ["Concord", "Synapse B"] if args.concord_first else ["Synapse B", "Concord"]
            for side in order:
                if side == "Synapse B":
                    results.append(time_join(side, synapse_b, room, synapse_a.server_name))
                elif concord_error or concord is None:
                    results.append(Result(side, error=concord_error))
                else:
                    results.append(time_join(side, concord, room, synapse_a.server_name))
    return report(results)


def report(results: list[Result]) -> int:
    print()
    print(f"{'joining side':<12} {'join':>9} {'first message':>15}")
    for r in results:
        if r.error:
            print(f"{r.side:<12} FAILED: {r.error}")
        else:
            print(f"{r.side:<12} {r.join_s:>8.2f}s {r.first_message_s:>14.2f}s")
    by_side = {r.side: r for r in results}
    synapse, concord = by_side.get("Synapse B"), by_side.get("Concord")
    if synapse and concord and synapse.first_message_s and concord.first_message_s:
        ratio = concord.first_message_s / synapse.first_message_s
        verdict = "meets" if ratio <= 1 / 3 else "misses"
        print(f"Concord/Synapse time to first message: {ratio:.2f} ({verdict} the goal <= 0.33)")
    return 0 if all(r.error is None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
