"""Media of other servers we have fetched and keep (migration 0020)."""

from __future__ import annotations

from dataclasses import dataclass

from .database import Database, Txn


@dataclass(frozen=True, slots=True)
class RemoteMediaRecord:
    server_name: str
    media_id: str
    content_type: str
    size: int
    filename: str | None
    sha256: str


def get_remote(txn: Txn, server_name: str, media_id: str) -> RemoteMediaRecord | None:
    row = txn.fetchone(
        "SELECT content_type, size, filename, sha256 FROM remote_media"
        " WHERE server_name = ? AND media_id = ?",
        (server_name, media_id),
    )
    if row is None:
        return None
    return RemoteMediaRecord(server_name, media_id, row[0], int(row[1]), row[2], row[3])


def put_remote(txn: Txn, record: RemoteMediaRecord, now_ms: int) -> None:
    txn.execute(
        "INSERT INTO remote_media (server_name, media_id, content_type, size, filename,"
        " sha256, fetched_ts) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (server_name, media_id) DO UPDATE SET content_type = excluded.content_type,"
        " size = excluded.size, filename = excluded.filename, sha256 = excluded.sha256,"
        " fetched_ts = excluded.fetched_ts",
        (
            record.server_name,
            record.media_id,
            record.content_type,
            record.size,
            record.filename,
            record.sha256,
            now_ms,
        ),
    )


class RemoteMediaStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, server_name: str, media_id: str) -> RemoteMediaRecord | None:
        return await self.db.read(get_remote, server_name, media_id)

    async def put(self, record: RemoteMediaRecord, now_ms: int) -> None:
        await self.db.write(put_remote, record, now_ms)
