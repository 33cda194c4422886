"""Media of other servers: fetched once over federation, kept, then served like ours.

spec: client-server "Content repository" — a download of ``mxc://other.server/id`` is
answered with the media its server holds; server-server "Content Repository" — how
we ask for it. The asking is ``federation``'s (``RemoteMedia.fetch_remote``); this
module keeps what came back on disk and in ``remote_media``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from homeserver.clock import Clock
from homeserver.errors import MatrixError, not_found
from homeserver.logs import fields
from homeserver.storage.remote_media_store import RemoteMediaRecord, RemoteMediaStore

from .content import valid_media_id
from .files import MediaFiles, sha256_hex, write_file

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FetchedMedia:
    content_type: str
    filename: str | None
    data: bytes


# ``(server_name, media_id, timeout_ms, max_bytes)``: the media as its server gives it;
# raises ``MatrixError`` (404 when it has none, 502 when it cannot be asked).
Fetch = Callable[[str, str, int, int], Awaitable[FetchedMedia]]


@dataclass(frozen=True, slots=True)
class RemoteFile:
    path: Path
    record: RemoteMediaRecord


class RemoteMedia:
    def __init__(
        self,
        store: RemoteMediaStore,
        files: MediaFiles,
        clock: Clock,
        fetch_remote: Fetch,
        *,
        max_bytes: int,
    ) -> None:
        self.store = store
        self.files = files
        self.clock = clock
        self.fetch_remote = fetch_remote
        self.max_bytes = max_bytes
        # One fetch per media at a time: concurrent downloads wait for it.
        self._fetching: dict[tuple[str, str], asyncio.Task[RemoteFile]] = {}

    async def get(self, server_name: str, media_id: str, timeout_ms: int) -> RemoteFile:
        if not valid_media_id(media_id):
            raise not_found("Unknown media")
        record = await self.store.get(server_name, media_id)
        if record is not None:
            path = self.files.remote_path(server_name, media_id)
            if path.exists():
                return RemoteFile(path, record)
        key = (server_name, media_id)
        task = self._fetching.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fetch(server_name, media_id, timeout_ms))
            self._fetching[key] = task
            task.add_done_callback(lambda _: self._fetching.pop(key, None))
        return await asyncio.shield(task)

    async def _fetch(self, server_name: str, media_id: str, timeout_ms: int) -> RemoteFile:
        fetched = await self.fetch_remote(server_name, media_id, timeout_ms, self.max_bytes)
        if len(fetched.data) > self.max_bytes:
            raise MatrixError(502, "M_TOO_LARGE", "The remote media is too large")
        path = self.files.remote_path(server_name, media_id)
        await asyncio.to_thread(write_file, path, fetched.data)
        record = RemoteMediaRecord(
            server_name=server_name,
            media_id=media_id,
            content_type=fetched.content_type,
            size=len(fetched.data),
            filename=fetched.filename,
            sha256=sha256_hex(fetched.data),
        )
        await self.store.put(record, self.clock.time_ms())
        log.info(
            "fetched remote media",
            extra=fields(server=server_name, media_id=media_id, size=record.size),
        )
        return RemoteFile(path, record)
