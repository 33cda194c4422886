"""Numbered schema migrations, applied at start, written once for both databases.

Files are ``schema/NNNN_name.sql``. The few dialect differences are spelled as
markers replaced per dialect: ``{BLOB}`` (BLOB / BYTEA), ``{BIGINT}``.
Statements are separated by lines holding only ``;``-terminated SQL (we split on
``;\n``), so keep semicolons out of string literals.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from .database import Database, Txn

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# A plain directory beside this file: importlib.resources would cost the server ~0.4 MB
# of resident memory for nine modules it needs nowhere else.
_SCHEMA_DIR = Path(__file__).resolve().parent / "schema"

_MARKERS = {
    "sqlite": {"{BLOB}": "BLOB", "{BIGINT}": "INTEGER"},
    "postgres": {"{BLOB}": "BYTEA", "{BIGINT}": "BIGINT"},
}


def migration_files() -> list[tuple[int, str, str]]:
    """``(number, name, sql)`` for every migration, in order."""
    found = []
    for entry in _SCHEMA_DIR.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [number for number, _, _ in found]
    if len(set(numbers)) != len(numbers):
        raise RuntimeError(f"migration numbers must be unique, found {numbers}")
    return found


def render(sql: str, dialect: str) -> list[str]:
    for marker, replacement in _MARKERS[dialect].items():
        sql = sql.replace(marker, replacement)
    statements = [part.strip() for part in sql.split(";\n")]
    return [
        s for s in statements if s and not all(line.startswith("--") for line in s.splitlines())
    ]


def _apply(txn: Txn, dialect: str) -> list[str]:
    txn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    # Each migration is applied once, by number: branches developed in parallel take
    # numbers ahead of each other, so a lower number may arrive after a higher one.
    done = {int(row[0]) for row in txn.fetchall("SELECT version FROM schema_version")}
    applied = []
    for number, name, sql in migration_files():
        if number in done:
            continue
        for statement in render(sql, dialect):
            txn.execute(statement)
        txn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
        applied.append(name)
    return applied


def migrate(db: Database) -> None:
    """Bring the schema up to date (blocking; called at start before serving)."""
    applied = db.run_sync_write(_apply, db.dialect)
    for name in applied:
        log.info("applied migration %s", name)
