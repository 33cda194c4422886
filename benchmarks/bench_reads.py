"""Initial ``/sync`` and ``/messages`` timings of an in-process Concord on each engine.

    .venv/bin/python benchmarks/bench_reads.py [--engines sqlite,postgres] [--reps 7]
                                               [--rooms 50] [--msgs 20] [--history 1000]

For each engine: build the app over a fresh database (SQLite in a temporary folder, a
new PostgreSQL database from ``CONCORD_TEST_PG``'s server, dropped afterwards), register
a user, fill ``--rooms`` rooms with ``--msgs`` messages each and one room with
``--history`` messages, then time the user's initial ``/sync`` (timeline limit 10, as
mxbench does) and ``/messages?dir=b&limit=50`` pages back through the big room. Prints
medians in milliseconds. Quicker to run than ``bench_vs_synapse.py``, and it measures the
server's own work (no HTTP server process, no Synapse), so use it to compare changes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from homeserver.app import build_app  # noqa: E402
from homeserver.config import parse_config  # noqa: E402
from homeserver.protocol.signing import SigningKey  # noqa: E402
from homeserver.storage.database import Database  # noqa: E402
from homeserver.storage.migrations import migrate  # noqa: E402
from tests.support.http_client import TestClient  # noqa: E402
from tests.support.matrix_client import SERVER, Http, User, q, request  # noqa: E402
from tests.support.pg_admin import PG_ADMIN_DSN, pg_run  # noqa: E402


@asynccontextmanager
async def fresh_database(engine: str) -> AsyncIterator[Database]:
    if engine == "sqlite":
        from homeserver.storage.sqlite import SqliteDatabase

        with tempfile.TemporaryDirectory() as tmp:
            sqlite_db = SqliteDatabase(Path(tmp) / "bench.db")
            migrate(sqlite_db)
            yield sqlite_db
        return
    from homeserver.storage.postgres import PostgresDatabase

    name = "concord_bench_" + uuid.uuid4().hex[:12]
    pg_run(f'CREATE DATABASE "{name}"')
    try:
        pg_db = PostgresDatabase(PG_ADMIN_DSN.rpartition("/")[0] + "/" + name)
        migrate(pg_db)
        yield pg_db
    finally:
        pg_run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def register(http: Http, username: str) -> User:
    first = await request(http, "POST", "/register", {"username": username})
    body = (
        await request(
            http,
            "POST",
            "/register",
            {
                "username": username,
                "password": "bench password",
                "auth": {"type": "m.login.dummy", "session": first.body["session"]},
            },
        )
    ).ok()
    return User(http, body["user_id"], body["access_token"], body["device_id"])


async def fill_room(user: User, messages: int, name: str) -> str:
    room = await user.create_room(name=name)
    for index in range(messages):
        await user.send(room, f"{name} {index}")
    return room


def sync_filter(limit: int, variant: int) -> str:
    """Whitespace varies per request so that no response cache can answer it."""
    return json.dumps(
        {"room": {"timeline": {"limit": limit}}}, separators=(",", ":" + " " * variant)
    )


async def timed_ms(coro: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = await coro
    return (time.perf_counter() - start) * 1000, result


async def bench_engine(engine: str, args: argparse.Namespace) -> dict[str, float]:
    async with fresh_database(engine) as db:
        config = parse_config(
            {
                "server_name": SERVER,
                "listeners": {"client": {"port": 0}},
                "bcrypt_rounds": 4,
                "enable_registration": True,
                "rate_limits": {"enabled": False},
            },
            source="bench.yaml",
            base_dir=Path(tempfile.gettempdir()),
        )
        key = SigningKey.from_seed(SERVER, "a_bench", b"\x02" * 32)
        app = build_app(config, key, db)
        http: Http = TestClient(app)
        await http.start()
        try:
            user = await register(http, "bencher")
            sem = asyncio.Semaphore(4)

            async def fill(index: int) -> None:
                async with sem:
                    await fill_room(user, args.msgs, f"room {index}")

            await asyncio.gather(*(fill(i) for i in range(args.rooms)))
            reader = await register(http, "historian")
            big = await fill_room(reader, args.history, "history")

            sync_ms: list[float] = []
            for rep in range(args.reps):
                elapsed, reply = await timed_ms(
                    user.call("GET", "/sync", params={"filter": sync_filter(10, rep)})
                )
                reply.ok()
                sync_ms.append(elapsed)
            joined = await user.sync(filter={"room": {"timeline": {"limit": 10}}})
            assert len(joined["rooms"]["join"]) == args.rooms, "rooms missing from sync"

            page_ms: list[float] = []
            for _ in range(args.reps):
                token = (await reader.sync(filter={"room": {"timeline": {"limit": 1}}}))[
                    "next_batch"
                ]
                seen = 0
                while token is not None and seen < args.history:
                    elapsed, reply = await timed_ms(
                        reader.call(
                            "GET",
                            f"/rooms/{q(big)}/messages",
                            params={"dir": "b", "limit": "50", "from": token},
                        )
                    )
                    body = reply.ok()
                    page_ms.append(elapsed)
                    seen += len(body["chunk"])
                    token = body.get("end") if body["chunk"] else None
        finally:
            await http.close()
    return {
        "initial_sync_ms": statistics.median(sync_ms),
        "messages_page_ms": statistics.median(page_ms),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--msgs", type=int, default=20)
    parser.add_argument("--history", type=int, default=1000)
    args = parser.parse_args()
    for engine in args.engines.split(","):
        result = await bench_engine(engine, args)
        line = "  ".join(f"{name} {value:8.2f}" for name, value in result.items())
        print(f"{engine:9} {line}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
