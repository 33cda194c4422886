"""Metadata of local media and their thumbnails (the bytes are files, ``homeserver.media``).

spec: client-server "Content repository". A media id made by ``POST /media/v1/create``
is a row without content (``upload_ts`` NULL) until it is uploaded, or until its
``unused_expires_ts`` passes.
"""

from __future__ import annotations

from dataclasses import dataclass

from .database import Database, Row, Txn


@dataclass(frozen=True, slots=True)
class MediaRecord:
    media_id: str
    user_id: str
    created_ts: int
    unused_expires_ts: int | None
    upload_ts: int | None  # None: created, content not uploaded yet
    content_type: str | None
    size: int | None
    filename: str | None
    sha256: str | None

    @property
    def uploaded(self) -> bool:
        return self.upload_ts is not None


@dataclass(frozen=True, slots=True)
class ThumbnailRecord:
    media_id: str
    box_width: int
    box_height: int
    method: str
    animated: bool
    width: int
    height: int
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class UploadedContent:
    content_type: str
    size: int
    filename: str | None
    sha256: str


_MEDIA_COLUMNS = (
    "media_id, user_id, created_ts, unused_expires_ts, upload_ts, content_type, size,"
    " filename, sha256"
)


def _media(row: Row) -> MediaRecord:
    return MediaRecord(
        media_id=row[0],
        user_id=row[1],
        created_ts=int(row[2]),
        unused_expires_ts=None if row[3] is None else int(row[3]),
        upload_ts=None if row[4] is None else int(row[4]),
        content_type=row[5],
        size=None if row[6] is None else int(row[6]),
        filename=row[7],
        sha256=row[8],
    )


def get_media(txn: Txn, media_id: str) -> MediaRecord | None:
    row = txn.fetchone(f"SELECT {_MEDIA_COLUMNS} FROM local_media WHERE media_id = ?", (media_id,))
    return None if row is None else _media(row)


def insert_uploaded(
    txn: Txn, media_id: str, user_id: str, now_ms: int, content: UploadedContent
) -> None:
    txn.execute(
        f"INSERT INTO local_media ({_MEDIA_COLUMNS}) VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?)",
        (
            media_id,
            user_id,
            now_ms,
            now_ms,
            content.content_type,
            content.size,
            content.filename,
            content.sha256,
        ),
    )


def pending_uploads(txn: Txn, user_id: str, now_ms: int) -> list[int]:
    """The expiry times of ``user_id``'s created, not uploaded, unexpired media ids."""
    rows = txn.fetchall(
        "SELECT unused_expires_ts FROM local_media"
        " WHERE user_id = ? AND upload_ts IS NULL AND unused_expires_ts > ?"
        " ORDER BY unused_expires_ts",
        (user_id, now_ms),
    )
    return [int(row[0]) for row in rows]


def create_pending(
    txn: Txn, media_id: str, user_id: str, now_ms: int, expires_ts: int, max_pending: int
) -> list[int] | None:
    """Reserve ``media_id`` for ``user_id``; None on success, else (over ``max_pending``)
    the expiry times of the user's pending ids. Expired reservations are dropped first."""
    txn.execute(
        "DELETE FROM local_media"
        " WHERE user_id = ? AND upload_ts IS NULL AND unused_expires_ts <= ?",
        (user_id, now_ms),
    )
    pending = pending_uploads(txn, user_id, now_ms)
    if len(pending) >= max_pending:
        return pending
    txn.execute(
        "INSERT INTO local_media (media_id, user_id, created_ts, unused_expires_ts)"
        " VALUES (?, ?, ?, ?)",
        (media_id, user_id, now_ms, expires_ts),
    )
    return None


def complete_pending(
    txn: Txn, media_id: str, user_id: str, now_ms: int, content: UploadedContent
) -> bool:
    """Give the created ``media_id`` its content; False when it already has some."""
    txn.execute(
        "UPDATE local_media SET upload_ts = ?, unused_expires_ts = NULL, content_type = ?,"
        " size = ?, filename = ?, sha256 = ?"
        " WHERE media_id = ? AND user_id = ? AND upload_ts IS NULL",
        (
            now_ms,
            content.content_type,
            content.size,
            content.filename,
            content.sha256,
            media_id,
            user_id,
        ),
    )
    return txn.rowcount == 1


_THUMB_COLUMNS = (
    "media_id, box_width, box_height, method, animated, width, height, content_type, size"
)


def _thumbnail(row: Row) -> ThumbnailRecord:
    return ThumbnailRecord(
        media_id=row[0],
        box_width=int(row[1]),
        box_height=int(row[2]),
        method=row[3],
        animated=bool(row[4]),
        width=int(row[5]),
        height=int(row[6]),
        content_type=row[7],
        size=int(row[8]),
    )


def get_thumbnail(
    txn: Txn, media_id: str, box_width: int, box_height: int, method: str, animated: bool
) -> ThumbnailRecord | None:
    row = txn.fetchone(
        f"SELECT {_THUMB_COLUMNS} FROM local_media_thumbnails WHERE media_id = ?"
        " AND box_width = ? AND box_height = ? AND method = ? AND animated = ?",
        (media_id, box_width, box_height, method, int(animated)),
    )
    return None if row is None else _thumbnail(row)


def add_thumbnail(txn: Txn, thumb: ThumbnailRecord, now_ms: int) -> None:
    txn.execute(
        f"INSERT INTO local_media_thumbnails ({_THUMB_COLUMNS}, created_ts)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (media_id, box_width, box_height, method, animated) DO NOTHING",
        (
            thumb.media_id,
            thumb.box_width,
            thumb.box_height,
            thumb.method,
            int(thumb.animated),
            thumb.width,
            thumb.height,
            thumb.content_type,
            thumb.size,
            now_ms,
        ),
    )


class MediaStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, media_id: str) -> MediaRecord | None:
        return await self.db.read(get_media, media_id)

    async def add_uploaded(
        self, media_id: str, user_id: str, now_ms: int, content: UploadedContent
    ) -> None:
        await self.db.write(insert_uploaded, media_id, user_id, now_ms, content)

    async def create_pending(
        self, media_id: str, user_id: str, now_ms: int, expires_ts: int, max_pending: int
    ) -> list[int] | None:
        return await self.db.write(
            create_pending, media_id, user_id, now_ms, expires_ts, max_pending
        )

    async def complete_pending(
        self, media_id: str, user_id: str, now_ms: int, content: UploadedContent
    ) -> bool:
        return await self.db.write(complete_pending, media_id, user_id, now_ms, content)

    async def get_thumbnail(
        self, media_id: str, box_width: int, box_height: int, method: str, animated: bool
    ) -> ThumbnailRecord | None:
        return await self.db.read(get_thumbnail, media_id, box_width, box_height, method, animated)

    async def add_thumbnail(self, thumb: ThumbnailRecord, now_ms: int) -> None:
        await self.db.write(add_thumbnail, thumb, now_ms)
