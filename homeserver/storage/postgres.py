"""PostgreSQL through psycopg 3 and psycopg-pool.

The same synchronous ``Txn`` functions as SQLite run on pooled connections in
worker threads. Writes go through a single writer thread so that stream positions
commit in the order they were handed out.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from .database import Database, DatabaseError, P, R, Row, Txn


@functools.lru_cache(maxsize=2048)
def translate(sql: str) -> str:
    """``?`` placeholders to psycopg's ``%s`` (and literal ``%`` escaped)."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresTxn(Txn):
    dialect = "postgres"

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(translate(sql), params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._cursor.executemany(translate(sql), list(rows))

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        self._cursor.execute(translate(sql), params)
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self._cursor.execute(translate(sql), params)
        return [tuple(row) for row in self._cursor.fetchall()]

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class PostgresDatabase(Database):
    dialect = "postgres"

    def __init__(self, dsn: str, readers: int = 4, connect_timeout: float = 5.0) -> None:
        self.dsn = dsn
        try:
            # Fail fast with one clear line if the DSN is wrong or the server is down.
            psycopg.connect(dsn, connect_timeout=int(connect_timeout)).close()
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DatabaseError(f"cannot connect to PostgreSQL ({_redact(dsn)}): {first}") from exc
        # Reads run in autocommit: one round trip per statement instead of BEGIN /
        # statement / COMMIT. Every read function is either a single statement or
        # reads rows that never change once written (events, state groups), so a
        # per-statement snapshot is enough.
        self._read_conns = ConnectionPool(
            dsn,
            min_size=1,
            max_size=readers,
            open=True,
            timeout=connect_timeout,
            kwargs={"autocommit": True},
        )
        self._write_conns = ConnectionPool(
            dsn, min_size=1, max_size=1, open=True, timeout=connect_timeout
        )
        self._write_pool = ThreadPoolExecutor(1, thread_name_prefix="pg-writer")
        self._read_pool = ThreadPoolExecutor(readers, thread_name_prefix="pg-reader")

    def _run(
        self, fn: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any], read_only: bool
    ) -> R:
        try:
            if read_only:
                with self._read_conns.connection() as conn, conn.cursor() as cursor:
                    return fn(PostgresTxn(cursor), *args, **kwargs)
            with (
                self._write_conns.connection() as conn,
                conn.transaction(),
                conn.cursor() as cursor,
            ):
                return fn(PostgresTxn(cursor), *args, **kwargs)
        except PoolTimeout as exc:
            raise DatabaseError("PostgreSQL connection pool timed out") from exc

    async def read(
        self, fn: Callable[Concatenate[Txn, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        loop = asyncio.get_running_loop()
        call = functools.partial(self._run, fn, args, kwargs, True)
        return await loop.run_in_executor(self._read_pool, call)

    async def write(
        self, fn: Callable[Concatenate[Txn, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        loop = asyncio.get_running_loop()
        call = functools.partial(self._run, fn, args, kwargs, False)
        return await loop.run_in_executor(self._write_pool, call)

    def run_sync_write(
        self, fn: Callable[Concatenate[Txn, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        return self._write_pool.submit(self._run, fn, args, kwargs, False).result()

    async def close(self) -> None:
        self.close_sync()

    def close_sync(self) -> None:
        self._write_pool.shutdown(wait=True)
        self._read_pool.shutdown(wait=True)
        self._read_conns.close()
        self._write_conns.close()


def _redact(dsn: str) -> str:
    """Hide a password in a DSN before it goes into an error message."""
    if "@" in dsn and "://" in dsn:
        scheme, rest = dsn.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return dsn
