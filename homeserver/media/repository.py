"""The media repository's operations: upload (at once, or to an id created earlier),
download (waiting for an id whose content has not arrived yet) and thumbnails.

spec: client-server "Content repository". Blocking work (checking an image, hashing,
writing files, thumbnailing) runs in worker threads, never on the event loop.

Only local media (``mxc://<our server name>/...``) is served: remote media answers
404 M_NOT_FOUND until federation can fetch it from its origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homeserver.clock import Clock
from homeserver.errors import MatrixError, not_found
from homeserver.storage.media_store import (
    MediaRecord,
    MediaStore,
    ThumbnailRecord,
    UploadedContent,
)

from .content import DEFAULT_CONTENT_TYPE, media_type, new_media_id, valid_media_id
from .files import MediaFiles, sha256_hex, write_file
from .remote import RemoteFile, RemoteMedia
from .sniff import BadContent, TooManyPixels, check_upload
from .thumbnails import (
    Box,
    CannotThumbnail,
    ImageTooLarge,
    Original,
    Thumbnail,
    choose_box,
    render,
)

log = logging.getLogger(__name__)

# spec: POST /media/v1/create "The recommended default expiration is 24 hours".
PENDING_LIFETIME_MS = 24 * 3600 * 1000
# spec: "the server should limit the number of concurrent pending media uploads a given
# user can have" (429 M_LIMIT_EXCEEDED).
MAX_PENDING_UPLOADS = 10
# spec: timeout_ms "The default value is 20000 (20 seconds). The content repository
# SHOULD impose a maximum value for this parameter."
DEFAULT_TIMEOUT_MS = 20_000
MAX_TIMEOUT_MS = 60_000


def mxc_uri(server_name: str, media_id: str) -> str:
    return f"mxc://{server_name}/{media_id}"


@dataclass(frozen=True, slots=True)
class Download:
    path: Path
    content_type: str
    filename: str | None
    etag: str | None  # the content's sha256


@dataclass(frozen=True, slots=True)
class ThumbnailReply:
    content_type: str
    path: Path | None = None  # a file to serve (a kept thumbnail, or the content itself)
    data: bytes | None = None  # made for this request


class _Waiters:
    """Requests waiting for a created media id's content, woken by its upload."""

    def __init__(self) -> None:
        self._events: dict[str, tuple[asyncio.Event, int]] = {}

    @contextlib.contextmanager
    def watch(self, media_id: str) -> Iterator[asyncio.Event]:
        event, count = self._events.get(media_id, (None, 0))
        if event is None:
            event = asyncio.Event()
        self._events[media_id] = (event, count + 1)
        try:
            yield event
        finally:
            event, count = self._events[media_id]
            if count == 1:
                del self._events[media_id]
            else:
                self._events[media_id] = (event, count - 1)

    def notify(self, media_id: str) -> None:
        entry = self._events.get(media_id)
        if entry is not None:
            entry[0].set()

    def notify_all(self) -> None:
        for event, _ in self._events.values():
            event.set()


class _KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, count = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, count + 1)
        try:
            async with lock:
                yield
        finally:
            lock, count = self._locks[key]
            if count == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, count - 1)


class MediaRepository:
    def __init__(
        self,
        store: MediaStore,
        files: MediaFiles,
        clock: Clock,
        server_name: str,
        *,
        max_upload_size: int,
        max_image_pixels: int,
        max_pending_uploads: int = MAX_PENDING_UPLOADS,
    ) -> None:
        self.store = store
        self.files = files
        self.clock = clock
        self.server_name = server_name
        self.max_upload_size = max_upload_size
        self.max_image_pixels = max_image_pixels
        self.max_pending_uploads = max_pending_uploads
        self._waiters = _Waiters()
        self._stopping = False
        self._upload_locks = _KeyedLocks()
        self._thumbnailing: dict[tuple[str, int, int, str, bool], asyncio.Task[ThumbnailReply]] = {}
        # Set when federation is on: media of other servers, fetched and kept.
        self.remote: RemoteMedia | None = None

    def release_waiting(self) -> None:
        """At shutdown: downloads waiting for content answer at once (504)."""
        self._stopping = True
        self._waiters.notify_all()

    def config(self) -> dict[str, int]:
        """spec: GET /media/config."""
        return {"m.upload.size": self.max_upload_size}

    # -- uploads ---------------------------------------------------------------------------

    async def upload(
        self, user_id: str, data: bytes, content_type: str, filename: str | None
    ) -> str:
        """spec: POST /_matrix/media/v3/upload. Returns the new ``mxc://`` URI."""
        self._check_size(data)
        media_id = new_media_id()
        content = await self._store_content(media_id, data, content_type, filename)
        try:
            await self.store.add_uploaded(media_id, user_id, self.clock.time_ms(), content)
        except BaseException:
            await asyncio.to_thread(self.files.content_path(media_id).unlink, missing_ok=True)
            raise
        return mxc_uri(self.server_name, media_id)

    async def create(self, user_id: str) -> tuple[str, int]:
        """spec: POST /_matrix/media/v1/create: ``(mxc URI, unused_expires_at)``."""
        now = self.clock.time_ms()
        expires = now + PENDING_LIFETIME_MS
        media_id = new_media_id()
        pending = await self.store.create_pending(
            media_id, user_id, now, expires, self.max_pending_uploads
        )
        if pending is not None:
            raise MatrixError(
                429,
                "M_LIMIT_EXCEEDED",
                "Too many pending media uploads",
                retry_after_ms=max(0, pending[0] - now),
            )
        return mxc_uri(self.server_name, media_id), expires

    async def upload_to(
        self,
        user_id: str,
        server_name: str,
        media_id: str,
        data: bytes,
        content_type: str,
        filename: str | None,
    ) -> None:
        """spec: PUT /_matrix/media/v3/upload/{serverName}/{mediaId}."""
        if server_name != self.server_name or not valid_media_id(media_id):
            raise not_found("Unknown media ID")
        self._check_size(data)
        # One upload at a time per id: the winner's file is never overwritten.
        async with self._upload_locks.hold(media_id):
            record = await self.store.get(media_id)
            if record is None or self._expired(record):
                raise not_found("Unknown media ID")
            if record.user_id != user_id:
                raise MatrixError(403, "M_FORBIDDEN", "This media ID was created by another user")
            if record.uploaded:
                raise MatrixError(409, "M_CANNOT_OVERWRITE_MEDIA", "Media already uploaded")
            content = await self._store_content(media_id, data, content_type, filename)
            if not await self.store.complete_pending(
                media_id, user_id, self.clock.time_ms(), content
            ):
                raise MatrixError(409, "M_CANNOT_OVERWRITE_MEDIA", "Media already uploaded")
        self._waiters.notify(media_id)

    def _check_size(self, data: bytes) -> None:
        if len(data) > self.max_upload_size:
            raise MatrixError(
                413, "M_TOO_LARGE", f"Cannot upload files larger than {self.max_upload_size} bytes"
            )

    async def _store_content(
        self, media_id: str, data: bytes, content_type: str, filename: str | None
    ) -> UploadedContent:
        path = self.files.content_path(media_id)

        def check_and_write() -> str:
            check_upload(data, content_type, self.max_image_pixels)
            write_file(path, data)
            return sha256_hex(data)

        try:
            digest = await asyncio.to_thread(check_and_write)
        except BadContent:
            # M_INVALID_PARAM: the Content-Type header (a parameter of the request) does
            # not describe the body.
            raise MatrixError(
                400, "M_INVALID_PARAM", f"The content is not valid {media_type(content_type)}"
            ) from None
        except TooManyPixels:
            raise MatrixError(
                413, "M_TOO_LARGE", f"Images may have at most {self.max_image_pixels} pixels"
            ) from None
        return UploadedContent(content_type, len(data), filename, digest)

    # -- downloads -------------------------------------------------------------------------

    def _expired(self, record: MediaRecord) -> bool:
        expires = record.unused_expires_ts
        return not record.uploaded and expires is not None and expires <= self.clock.time_ms()

    async def _uploaded(self, server_name: str, media_id: str, timeout_ms: int) -> MediaRecord:
        """The record of local media with its content, waiting up to ``timeout_ms`` for
        an id created but not uploaded yet (then 504 M_NOT_YET_UPLOADED)."""
        if not valid_media_id(media_id):
            raise not_found("Unknown media")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(timeout_ms, MAX_TIMEOUT_MS) / 1000
        while True:
            # Watch before reading: an upload landing between the two still wakes us.
            with self._waiters.watch(media_id) as uploaded:
                record = await self.store.get(media_id)
                if record is None or self._expired(record):
                    raise not_found("Unknown media")
                if record.uploaded:
                    return record
                remaining = deadline - loop.time()
                if remaining <= 0 or self._stopping:
                    raise MatrixError(
                        504, "M_NOT_YET_UPLOADED", "Content has not yet been uploaded"
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(uploaded.wait(), remaining)

    async def _remote(self, server_name: str, media_id: str, timeout_ms: int) -> RemoteFile:
        if self.remote is None:
            raise not_found("Remote media is not available on this server")
        return await self.remote.get(server_name, media_id, timeout_ms)

    async def download(self, server_name: str, media_id: str, timeout_ms: int) -> Download:
        if server_name != self.server_name:
            remote = await self._remote(server_name, media_id, timeout_ms)
            return Download(
                path=remote.path,
                content_type=remote.record.content_type,
                filename=remote.record.filename,
                etag=remote.record.sha256,
            )
        record = await self._uploaded(server_name, media_id, timeout_ms)
        return Download(
            path=self.files.content_path(media_id),
            content_type=record.content_type or DEFAULT_CONTENT_TYPE,
            filename=record.filename,
            etag=record.sha256,
        )

    # -- thumbnails ------------------------------------------------------------------------

    async def thumbnail(
        self,
        server_name: str,
        media_id: str,
        *,
        width: int,
        height: int,
        method: str,
        animated: bool,
        timeout_ms: int,
    ) -> ThumbnailReply:
        if server_name != self.server_name:
            # Made here from the kept original, each time (remote thumbnails are not kept).
            remote = await self._remote(server_name, media_id, timeout_ms)
            if not media_type(remote.record.content_type).startswith("image/"):
                raise _cannot_thumbnail()
            box = choose_box(width, height, method)
            return await self._render(remote.path, box, (width, height), animated)
        record = await self._uploaded(server_name, media_id, timeout_ms)
        if not media_type(record.content_type).startswith("image/"):
            raise _cannot_thumbnail()
        box = choose_box(width, height, method)
        if not box.standard:
            return await self._generate(record, box, (width, height), animated)
        kept = await self.store.get_thumbnail(media_id, box.width, box.height, method, animated)
        if kept is not None:
            path = self.files.thumbnail_path(media_id, box.width, box.height, method, animated)
            return ThumbnailReply(kept.content_type, path=path)
        key = (media_id, box.width, box.height, method, animated)
        return await self._once(key, lambda: self._generate(record, box, (width, height), animated))

    async def _once(
        self,
        key: tuple[str, int, int, str, bool],
        make: Callable[[], Coroutine[Any, Any, ThumbnailReply]],
    ) -> ThumbnailReply:
        """Concurrent requests for one thumbnail share its generation."""
        task = self._thumbnailing.get(key)
        if task is None:
            task = asyncio.ensure_future(make())
            self._thumbnailing[key] = task

            def done(finished: asyncio.Task[ThumbnailReply]) -> None:
                self._thumbnailing.pop(key, None)
                if not finished.cancelled():
                    finished.exception()  # retrieved, even if every requester left

            task.add_done_callback(done)
        return await asyncio.shield(task)

    async def _rendered(
        self, path: Path, box: Box, requested: tuple[int, int], animated: bool
    ) -> Thumbnail | Original:
        try:
            return await asyncio.to_thread(
                render,
                path,
                box,
                requested=requested,
                animated=animated,
                max_pixels=self.max_image_pixels,
            )
        except CannotThumbnail:
            raise _cannot_thumbnail() from None
        except ImageTooLarge:
            raise MatrixError(413, "M_TOO_LARGE", "Content is too large to thumbnail") from None

    async def _render(
        self, path: Path, box: Box, requested: tuple[int, int], animated: bool
    ) -> ThumbnailReply:
        result = await self._rendered(path, box, requested, animated)
        if isinstance(result, Original):
            return ThumbnailReply(result.content_type, path=path)
        return ThumbnailReply(result.content_type, data=result.data)

    async def _generate(
        self, record: MediaRecord, box: Box, requested: tuple[int, int], animated: bool
    ) -> ThumbnailReply:
        path = self.files.content_path(record.media_id)
        result = await self._rendered(path, box, requested, animated)
        if isinstance(result, Original):
            return ThumbnailReply(result.content_type, path=path)
        if box.standard:
            kept = self.files.thumbnail_path(
                record.media_id, box.width, box.height, box.method, animated
            )
            await asyncio.to_thread(write_file, kept, result.data)
            await self.store.add_thumbnail(
                ThumbnailRecord(
                    media_id=record.media_id,
                    box_width=box.width,
                    box_height=box.height,
                    method=box.method,
                    animated=animated,
                    width=result.width,
                    height=result.height,
                    content_type=result.content_type,
                    size=len(result.data),
                ),
                self.clock.time_ms(),
            )
        return ThumbnailReply(result.content_type, data=result.data)


def _cannot_thumbnail() -> MatrixError:
    return MatrixError(400, "M_UNKNOWN", "Cannot generate thumbnails for the requested content")
