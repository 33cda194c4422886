"""The PostgreSQL server the tests and benchmarks use, and one-statement admin calls."""

from __future__ import annotations

import os
from typing import Any

PG_ADMIN_DSN = os.environ.get("CONCORD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def pg_run(sql: str, dsn: str = PG_ADMIN_DSN) -> list[tuple[Any, ...]]:
    """One statement in autocommit on a connection of its own; the rows it returns.
    Raises ``psycopg2.OperationalError`` when PostgreSQL is unreachable."""
    import psycopg2

    conn = psycopg2.connect(dsn, connect_timeout=5)
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return list(cursor.fetchall()) if cursor.description else []
    finally:
        conn.close()
