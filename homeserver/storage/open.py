"""Opening the configured database and bringing its schema up to date."""

from __future__ import annotations

from homeserver.config import DatabaseConfig

from .database import Database, DatabaseError
from .migrations import migrate


def open_database(config: DatabaseConfig) -> Database:
    """Connect (one clear ``DatabaseError`` line on failure) and migrate."""
    db: Database
    if config.engine == "sqlite":
        from .sqlite import SqliteDatabase

        assert config.path is not None
        db = SqliteDatabase(config.path)
    elif config.engine == "postgres":
        from .postgres import PostgresDatabase

        assert config.dsn is not None
        db = PostgresDatabase(config.dsn)
    else:  # config.py validates this; kept for a clear message if it ever changes
        raise DatabaseError(f"unknown database engine {config.engine!r}")
    migrate(db)
    return db
