"""Sending media to clients: a file streamed in chunks (never read whole into memory)
with byte ranges (RFC 9110 §14), validators (``ETag``, ``If-None-Match``,
``If-Range``) and the headers every piece of served content carries.

spec: client-server "Content repository": ``Content-Security-Policy``,
``Cross-Origin-Resource-Policy``, ``Content-Disposition`` (inline only for the safe
types, ``homeserver.media.content``).
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import BinaryIO

from homeserver.errors import not_found
from homeserver.http import web
from homeserver.logs import fields
from homeserver.media.content import SECURITY_HEADERS
from homeserver.media.ranges import Unsatisfiable, parse_range, unsatisfied_range

from ..middleware import CORS_HEADERS

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
# Media never changes once uploaded. Authenticated downloads are for one user's eyes.
CACHE_AUTHENTICATED = "private, max-age=86400"
CACHE_PUBLIC = "public, max-age=86400, s-maxage=86400"


def content_headers(content_type: str, disposition: str, cache_control: str) -> dict[str, str]:
    return {
        **CORS_HEADERS,
        **SECURITY_HEADERS,
        "Content-Type": content_type,
        "Content-Disposition": disposition,
        "Cache-Control": cache_control,
    }


def _open(path: Path) -> tuple[BinaryIO, int]:
    file = path.open("rb")
    try:
        return file, os.fstat(file.fileno()).st_size
    except BaseException:
        file.close()
        raise


def _etag_matches(header: str, etag: str) -> bool:
    """RFC 9110 §13.1.2 (weak comparison for If-None-Match)."""
    if header.strip() == "*":
        return True
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return etag in tags


async def serve_file(
    request: web.Request, path: Path, headers: dict[str, str], *, sha256: str | None
) -> web.StreamResponse:
    """200 with the whole file, 206 with one range of it, 304 or 416."""
    try:
        file, size = await asyncio.to_thread(_open, path)
    except FileNotFoundError:
        log.error("media file missing", extra=fields(path=str(path)))
        raise not_found("Unknown media") from None
    try:
        headers = {**headers, "Accept-Ranges": "bytes"}
        etag = f'"{sha256}"' if sha256 else None
        if etag is not None:
            headers["ETag"] = etag
            if_none_match = request.headers.get("If-None-Match")
            if if_none_match is not None and _etag_matches(if_none_match, etag):
                return web.Response(status=304, headers=headers)
        status, start, length = 200, 0, size
        requested = request.headers.get("Range")
        if requested is not None and request.method == "GET":
            # RFC 9110 §13.1.5: a Range guarded by a validator that no longer matches
            # (or by a date: we send no Last-Modified) is ignored.
            if_range = request.headers.get("If-Range")
            if if_range is None or (etag is not None and if_range.strip() == etag):
                try:
                    chosen = parse_range(requested, size)
                except Unsatisfiable:
                    headers["Content-Range"] = unsatisfied_range(size)
                    headers.pop("Content-Disposition", None)
                    headers["Content-Type"] = "text/plain; charset=utf-8"
                    return web.Response(status=416, text="Range Not Satisfiable", headers=headers)
                if chosen is not None:
                    status, start, length = 206, chosen.start, chosen.length
                    headers["Content-Range"] = chosen.content_range(size)
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = length
        await response.prepare(request)
        if request.method != "HEAD" and length:
            try:
                await _copy(file, start, length, response)
            except ConnectionError:
                # The client went away (an aborted video, a seek): nothing to report.
                raise _TooLate("the client closed the connection") from None
            except Exception as exc:
                log.exception("reading a media file failed", extra=fields(path=str(path)))
                raise _TooLate("the media file could not be read") from exc
        await response.write_eof()
        return response
    finally:
        file.close()


class _TooLate(web.HTTPException):
    """A failure once the head is out: the server closes the connection, the body
    unfinished (no error response can follow a status line already sent)."""


async def _copy(file: BinaryIO, start: int, length: int, response: web.StreamResponse) -> None:
    if start:
        file.seek(start)
    remaining = length
    while remaining > 0:
        chunk = await asyncio.to_thread(file.read, min(CHUNK, remaining))
        if not chunk:
            # The file shrank under us: the connection closes with the body unfinished.
            raise RuntimeError("media file shorter than its length")
        await response.write(chunk)
        remaining -= len(chunk)
