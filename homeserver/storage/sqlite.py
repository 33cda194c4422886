"""SQLite: WAL, one writer connection on its own thread, readers on a small pool.

``synchronous=NORMAL`` in WAL mode keeps every committed transaction across a
process crash (SIGKILL); only an OS crash or power loss can lose the last ones.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Concatenate

from .database import Database, DatabaseError, P, R, Row, Txn


class SqliteTxn(Txn):
    dialect = "sqlite"

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._cursor.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._cursor.executemany(sql, rows)

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        result: Row | None = self._cursor.execute(sql, params).fetchone()
        return result

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._cursor.execute(sql, params).fetchall()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA cache_size=-32000")
    return conn


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, path: Path | str, readers: int = 2) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._writer = _connect(self.path)
        except sqlite3.Error as exc:
            raise DatabaseError(f"cannot open SQLite database {self.path}: {exc}") from exc
        self._write_pool = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._read_pool = ThreadPoolExecutor(readers, thread_name_prefix="sqlite-reader")
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._reader_count = 0
        self._reader_limit = readers
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = [self._writer]

    def _reader(self) -> sqlite3.Connection:
        try:
            return self._readers.get_nowait()
        except queue.Empty:
            with self._lock:
                conn = _connect(self.path)
                self._all.append(conn)
            return conn

    def _run_write(self, fn: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
        cursor = self._writer.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            result = fn(SqliteTxn(cursor), *args, **kwargs)
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")
        return result

    def _run_read(self, fn: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
        conn = self._reader()
        try:
            cursor = conn.cursor()
            cursor.execute("BEGIN")
            try:
                return fn(SqliteTxn(cursor), *args, **kwargs)
            finally:
                cursor.execute("ROLLBACK")
        finally:
            self._readers.put(conn)

    async def read(
        self, fn: Callable[Concatenate[Txn, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        loop = asyncio.get_running_loop()
        call = functools.partial(self._run_read, fn, args, kwargs)
        return await loop.run_in_executor(self._read_pool, call)

    async def write(
        self, fn: Callable[Concatenate[Txn, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        loop = asyncio.get_running_loop()
        call = functools.partial(self._run_write, fn, args, kwargs)
        return await loop.run_in_executor(self._write_pool, call)

    def run_sync_write(
        self, fn: Callable[Concatenate[Txn, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        return self._write_pool.submit(self._run_write, fn, args, kwargs).result()

    async def close(self) -> None:
        self.close_sync()

    def close_sync(self) -> None:
        self._write_pool.shutdown(wait=True)
        self._read_pool.shutdown(wait=True)
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
