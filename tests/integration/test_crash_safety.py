"""A crash loses no acknowledged event (DESIGN.md "The write path").

10 clients send 20 messages each into one room, concurrently, each with its own txnId;
at a random point in the burst the server gets SIGKILL. After a restart on the same
data every send that was answered 200 is in /messages exactly once, and resending its
txnId (same access token) returns the same event_id. Sends that were in flight are
resent too: each ends up in the room exactly once. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import collections
import os
import random
import time
from typing import Any
from urllib.parse import quote

import aiohttp

from .server_process import ConcordServer

CLIENTS = 10
PER_CLIENT = 20
PASSWORD = "crash-test-password"
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=15)


class Client:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str = "") -> None:
        self.session = session
        self.base_url = base_url
        self.token = token
        self.user_id = ""

    async def call(
        self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.session.request(
            method,
            self.base_url + "/_matrix/client/v3" + path,
            json=body,
            params=params,
            headers=headers,
            timeout=REQUEST_TIMEOUT,
        ) as resp:
            return resp.status, await resp.json(content_type=None)

    async def ok(self, method: str, path: str, body: Any = None, **params: str) -> Any:
        status, data = await self.call(method, path, body, params or None)
        assert status == 200, f"{method} {path} -> {status} {data}"
        return data

    def send_path(self, room_id: str, txn_id: str) -> str:
        return f"/rooms/{quote(room_id)}/send/m.room.message/{quote(txn_id)}"


async def register(session: aiohttp.ClientSession, url: str, name: str) -> Client:
    client = Client(session, url)
    data = await client.ok(
        "POST",
        "/register",
        {"username": name, "password": PASSWORD, "auth": {"type": "m.login.dummy"}},
    )
    client.token, client.user_id = data["access_token"], data["user_id"]
    return client


async def room_history(client: Client, room_id: str) -> list[dict[str, Any]]:
    """Every event of the room, newest first, through /messages?dir=b."""
    params = {"dir": "b", "limit": "100"}
    status, page = await client.call("GET", f"/rooms/{quote(room_id)}/messages", None, params)
    if status == 400:  # a server that still wants `from`: start at the sync position
        sync = await client.ok("GET", "/sync", timeout="0")
        params["from"] = sync["next_batch"]
        status, page = await client.call("GET", f"/rooms/{quote(room_id)}/messages", None, params)
    events: list[dict[str, Any]] = []
    for _ in range(100):
        assert status == 200, f"/messages -> {status} {page}"
        events.extend(page["chunk"])
        if not page["chunk"] or not page.get("end"):
            return events
        params["from"] = page["end"]
        status, page = await client.call("GET", f"/rooms/{quote(room_id)}/messages", None, params)
    raise AssertionError("/messages never reached the start of the room")


async def test_sigkill_mid_burst_loses_no_acknowledged_event(
    server_factory: ConcordServer,
) -> None:
    started = time.monotonic()
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    kill_after = rng.randrange(20, CLIENTS * PER_CLIENT - 40)
    note = f"(CRASH_SEED={seed}, kill after {kill_after} acks)"

    url = server_factory.start()
    async with aiohttp.ClientSession() as session:
        clients = await asyncio.gather(*(register(session, url, f"c{i}") for i in range(CLIENTS)))
        owner = clients[0]
        room = await owner.ok("POST", "/createRoom", {"preset": "public_chat", "name": "burst"})
        room_id = room["room_id"]
        for c in clients[1:]:
            await c.ok("POST", f"/join/{quote(room_id)}", {})

        acked: dict[tuple[int, str], str] = {}  # (client, txn) -> event_id
        attempted: list[tuple[int, str]] = []
        refused: list[tuple[int, Any]] = []
        reached = asyncio.Event()

        async def burst(index: int) -> None:
            client = clients[index]
            for j in range(PER_CLIENT):
                txn = f"burst-{index}-{j}"
                attempted.append((index, txn))
                body = {"msgtype": "m.text", "body": txn}
                try:
                    status, data = await client.call("PUT", client.send_path(room_id, txn), body)
                except (TimeoutError, aiohttp.ClientError):
                    return  # the server is gone
                if status != 200:
                    refused.append((status, data))
                    return
                acked[(index, txn)] = data["event_id"]
                if len(acked) >= kill_after:
                    reached.set()

        senders = asyncio.gather(*(burst(i) for i in range(CLIENTS)))
        waiter = asyncio.ensure_future(reached.wait())
        await asyncio.wait([senders, waiter], timeout=30, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        assert reached.is_set(), f"the burst stopped at {len(acked)} acks: {refused} {note}"
        server_factory.kill()
        await asyncio.wait_for(senders, 20)
        assert server_factory.proc is not None and server_factory.proc.returncode == -9
        assert kill_after <= len(acked) < CLIENTS * PER_CLIENT, f"not mid-burst {note}"

    # Restart on the same data (a new port); old access tokens still work.
    url = server_factory.start()
    async with aiohttp.ClientSession() as session:
        for c in clients:
            c.session, c.base_url = session, url

        history = await room_history(owner, room_id)
        counts = collections.Counter(e["event_id"] for e in history)
        assert not [i for i, n in counts.items() if n > 1], f"duplicated events {note}"
        by_id = {e["event_id"]: e for e in history}
        lost = [(k, ev) for k, ev in acked.items() if ev not in by_id]
        assert not lost, f"{len(lost)} acknowledged events lost, e.g. {lost[:3]} {note}"
        for (_, txn), event_id in acked.items():
            assert by_id[event_id]["content"]["body"] == txn

        # Resending an acknowledged txnId gives back the same event.
        async def resend(key: tuple[int, str]) -> tuple[tuple[int, str], str]:
            index, txn = key
            client = clients[index]
            body = {"msgtype": "m.text", "body": txn}
            data = await client.ok("PUT", client.send_path(room_id, txn), body)
            return key, data["event_id"]

        again = dict(await asyncio.gather(*(resend(k) for k in acked)))
        changed = {k: (acked[k], again[k]) for k in acked if again[k] != acked[k]}
        assert not changed, f"resent txnIds got new events: {list(changed.items())[:3]} {note}"

        # Sends that were in flight at the crash: resending lands each exactly once.
        unacked = [k for k in attempted if k not in acked]
        resent = dict(await asyncio.gather(*(resend(k) for k in unacked)))
        committed_unacked = sum(1 for k in unacked if resent[k] in by_id)
        print(
            f"acked {len(acked)}, unacked {len(unacked)} of which {committed_unacked} had"
            f" committed before the crash {note}"
        )
        history = await room_history(owner, room_id)
        bodies = collections.Counter(
            e["content"].get("body") for e in history if e["type"] == "m.room.message"
        )
        for _, txn in [*acked, *resent]:
            assert bodies[txn] == 1, f"{txn} is in the room {bodies[txn]} times {note}"

    assert time.monotonic() - started < 60, f"took {time.monotonic() - started:.1f} s"
