"""The database seam: SQL written once, run on SQLite or PostgreSQL.

Store code is written as plain synchronous functions of a ``Txn`` and run with
``await db.write(fn, ...)`` or ``await db.read(fn, ...)``: one thread hop per
transaction, not per statement. SQL uses ``?`` placeholders; the PostgreSQL adapter
rewrites them. Writes are serialized through one writer (the stream positions the
writer hands out are then committed in order, which sync relies on).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
H = TypeVar("H", bound=Hashable)

Row = tuple[Any, ...]

# Items per ``IN (...)`` list: one statement's bound variables stay well under
# SQLite's limit (32766) even with a few other parameters.
IN_LIST_CHUNK = 500


def in_chunks(values: Iterable[H]) -> Iterator[list[H]]:
    """``values`` without repeats, in slices of at most ``IN_LIST_CHUNK`` (for ``IN``)."""
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), IN_LIST_CHUNK):
        yield unique[start : start + IN_LIST_CHUNK]


class DatabaseError(Exception):
    """The database is unreachable or misconfigured; the message is one clear line."""


class Txn(abc.ABC):
    """One transaction's cursor, dialect-neutral."""

    dialect: str

    @abc.abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    @abc.abstractmethod
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    @abc.abstractmethod
    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    @abc.abstractmethod
    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    @property
    @abc.abstractmethod
    def rowcount(self) -> int: ...

    def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.fetchone(sql, params)
        return None if row is None else row[0]

    def in_list(self, values: Sequence[Any]) -> str:
        """``(?, ?, ?)`` for an ``IN`` clause of ``len(values)`` (at least one) items."""
        return "(" + ",".join("?" * max(1, len(values))) + ")"


class Database(abc.ABC):
    dialect: str

    @abc.abstractmethod
    async def read(
        self, fn: Callable[Concatenate[Txn, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Run ``fn(txn, ...)`` in a read-only transaction."""

    @abc.abstractmethod
    async def write(
        self, fn: Callable[Concatenate[Txn, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Run ``fn(txn, ...)`` in the writer's transaction; commit, or roll back on error."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    def close_sync(self) -> None:
        """Close from outside an event loop (start-up failures, CLI commands)."""

    def run_sync_write(
        self, fn: Callable[Concatenate[Txn, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Blocking write for start-up code (migrations) that runs before the loop."""
        raise NotImplementedError
