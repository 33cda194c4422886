"""Migration files: dialect markers and dialect blocks, numbering."""

from __future__ import annotations

import pytest

from homeserver.storage.migrations import migration_files, render, select_dialect

SQL = """-- A shared table first.
CREATE TABLE a (x {BIGINT});
-- dialect: sqlite
CREATE VIRTUAL TABLE b USING fts5(value);
INSERT INTO b (value) VALUES ('only sqlite');
-- dialect: postgres
-- the PostgreSQL version
CREATE TABLE b (value TSVECTOR);
-- dialect: all
CREATE INDEX a_x ON a (x);
"""


def test_dialect_blocks_keep_only_the_engines_statements() -> None:
    assert render(SQL, "sqlite") == [
        "-- A shared table first.\nCREATE TABLE a (x INTEGER)",
        "CREATE VIRTUAL TABLE b USING fts5(value)",
        "INSERT INTO b (value) VALUES ('only sqlite')",
        "CREATE INDEX a_x ON a (x)",
    ]
    assert render(SQL, "postgres") == [
        "-- A shared table first.\nCREATE TABLE a (x BIGINT)",
        "-- the PostgreSQL version\nCREATE TABLE b (value TSVECTOR)",
        "CREATE INDEX a_x ON a (x)",
    ]


def test_sql_without_blocks_is_shared() -> None:
    assert select_dialect("CREATE TABLE t (x INT);\n", "postgres") == "CREATE TABLE t (x INT);\n"


def test_an_unknown_dialect_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="unknown dialect"):
        render("-- dialect: mysql\nCREATE TABLE t (x INT);\n", "sqlite")


def test_the_search_migration_differs_by_dialect() -> None:
    sql = next(text for number, _, text in migration_files() if number == 10)
    sqlite, postgres = render(sql, "sqlite"), render(sql, "postgres")
    assert any("USING fts5" in s for s in sqlite) and not any("fts5" in s for s in postgres)
    assert any("USING GIN" in s for s in postgres) and not any("GIN" in s for s in sqlite)
    assert not any("dialect:" in s for s in sqlite + postgres)
