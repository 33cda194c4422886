"""The database seam behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from homeserver.storage import state_store
from homeserver.storage.database import Database, Txn
from homeserver.storage.migrations import migrate, migration_files


async def test_write_commits_and_read_sees_it(database: Database) -> None:
    def put(txn: Txn) -> None:
        txn.execute(
            "INSERT INTO filters (user_id, filter_id, json) VALUES (?, ?, ?)", ("@a:x", 1, "{}")
        )

    await database.write(put)
    count = await database.read(lambda t: t.fetchval("SELECT COUNT(*) FROM filters"))
    assert count == 1


async def test_failed_write_rolls_back_everything(database: Database) -> None:
    def put_then_fail(txn: Txn) -> None:
        txn.execute(
            "INSERT INTO filters (user_id, filter_id, json) VALUES (?, ?, ?)", ("@a:x", 1, "{}")
        )
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await database.write(put_then_fail)
    assert await database.read(lambda t: t.fetchval("SELECT COUNT(*) FROM filters")) == 0


async def test_constraint_violation_changes_nothing(database: Database) -> None:
    def put_twice(txn: Txn) -> None:
        for _ in range(2):
            txn.execute(
                "INSERT INTO filters (user_id, filter_id, json) VALUES (?, ?, ?)",
                ("@a:x", 1, "{}"),
            )

    with pytest.raises(Exception):  # noqa: B017 - the drivers raise their own IntegrityError
        await database.write(put_twice)
    assert await database.read(lambda t: t.fetchval("SELECT COUNT(*) FROM filters")) == 0


async def test_percent_and_placeholders(database: Database) -> None:
    def put(txn: Txn) -> None:
        txn.execute(
            "INSERT INTO filters (user_id, filter_id, json) VALUES (?, ?, ?)",
            ("@a:x", 1, '{"x": "50%"}'),
        )

    await database.write(put)
    rows = await database.read(
        lambda t: t.fetchall(
            "SELECT json FROM filters WHERE json LIKE '%50%%' AND user_id = ?", ("@a:x",)
        )
    )
    assert rows == [('{"x": "50%"}',)]


async def test_concurrent_writes_are_serialised(database: Database) -> None:
    def bump(txn: Txn, i: int) -> None:
        current = txn.fetchval("SELECT COUNT(*) FROM filters WHERE user_id = ?", ("@a:x",))
        txn.execute(
            "INSERT INTO filters (user_id, filter_id, json) VALUES (?, ?, ?)",
            ("@a:x", int(current) + 1, str(i)),
        )

    await asyncio.gather(*(database.write(bump, i) for i in range(30)))
    ids = await database.read(
        lambda t: [r[0] for r in t.fetchall("SELECT filter_id FROM filters ORDER BY filter_id")]
    )
    assert ids == list(range(1, 31))


async def test_migrations_are_idempotent(database: Database) -> None:
    migrate(database)  # already migrated by the fixture: applies nothing
    versions = await database.read(
        lambda t: [r[0] for r in t.fetchall("SELECT version FROM schema_version ORDER BY version")]
    )
    assert versions == [number for number, _, _ in migration_files()]


async def test_state_groups_snapshot_bounds_the_chain(database: Database) -> None:
    full: dict[tuple[str, str], str] = {("m.room.create", ""): "$c"}

    def make_chain(txn: Txn) -> list[int]:
        groups = [state_store.store_state_group(txn, "!r:x", None, full, full)]
        for i in range(state_store.MAX_CHAIN * 2 + 3):
            key = ("m.room.topic", "")
            full[key] = f"$t{i}"
            full[("m.room.member", f"@u{i}:x")] = f"$m{i}"
            delta = {key: f"$t{i}", ("m.room.member", f"@u{i}:x"): f"$m{i}"}
            groups.append(state_store.store_state_group(txn, "!r:x", groups[-1], delta, full))
        return groups

    groups = await database.write(make_chain)
    final = await database.read(state_store.load_state_group, groups[-1])
    assert final == full
    chains = await database.read(
        lambda t: [r[0] for r in t.fetchall("SELECT chain_length FROM state_groups")]
    )
    assert max(chains) < state_store.MAX_CHAIN
    assert chains.count(0) >= 3  # snapshots were written along the way


async def test_executemany_inserts_every_row_across_chunks(database: Database) -> None:
    # On PostgreSQL this becomes multi-row INSERTs of MULTIROW_CHUNK rows each.
    rows = [("@a:x", i, f'{{"n": {i}}}') for i in range(1234)]

    def put(txn: Txn) -> None:
        txn.executemany("INSERT INTO filters (user_id, filter_id, json) VALUES (?, ?, ?)", rows)

    await database.write(put)
    stored = await database.read(
        lambda t: t.fetchall("SELECT user_id, filter_id, json FROM filters ORDER BY filter_id")
    )
    assert [tuple(r) for r in stored] == rows


async def test_executemany_with_no_rows_does_nothing(database: Database) -> None:
    def put(txn: Txn) -> None:
        txn.executemany("INSERT INTO filters (user_id, filter_id, json) VALUES (?, ?, ?)", [])

    await database.write(put)
    assert await database.read(lambda t: t.fetchval("SELECT COUNT(*) FROM filters")) == 0


async def test_a_dropped_connection_is_replaced(postgres_dsn: str) -> None:
    from homeserver.storage.postgres import PostgresDatabase

    db = PostgresDatabase(postgres_dsn, readers=1)
    try:
        backend = await db.read(lambda t: t.fetchval("SELECT pg_backend_pid()"))
        await db.write(lambda t: t.execute(f"SELECT pg_terminate_backend({int(backend)})"))
        with pytest.raises(Exception):  # noqa: B017 - the driver's error for a lost link
            await db.read(lambda t: t.fetchval("SELECT 1"))
        assert await db.read(lambda t: t.fetchval("SELECT 1")) == 1
    finally:
        await db.close()


def test_multirow_insert_statements() -> None:
    from homeserver.storage.postgres import multirow

    assert (
        multirow("INSERT INTO t (a, b) VALUES (?, ?)", 3)
        == "INSERT INTO t (a, b) VALUES (%s, %s), (%s, %s), (%s, %s)"
    )
    assert (
        multirow("INSERT INTO t (a) VALUES (?) ON CONFLICT DO NOTHING", 2)
        == "INSERT INTO t (a) VALUES (%s), (%s) ON CONFLICT DO NOTHING"
    )
    assert multirow("UPDATE t SET a = ? WHERE b = ?", 2) is None
    assert multirow("INSERT INTO t (a) SELECT x FROM y WHERE z = ?", 2) is None
