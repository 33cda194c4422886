"""Media across servers: serving ours to peers, fetching theirs for our users.

spec: server-server "Content Repository". Peers ask with signed requests
(``GET /_matrix/federation/v1/media/download/{mediaId}`` and ``/thumbnail/{mediaId}``)
and get a two-part ``multipart/mixed`` answer (``homeserver.media.multipart``). We ask
the same way, and fall back to the deprecated ``/_matrix/media/v3/download`` with
``allow_remote=false`` when a server answers ``404 M_UNRECOGNIZED``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from homeserver.errors import MatrixError, not_found
from homeserver.http import web
from homeserver.media.content import content_disposition
from homeserver.media.multipart import MultipartError, build, parse
from homeserver.media.remote import FetchedMedia
from homeserver.media.repository import DEFAULT_TIMEOUT_MS, MediaRepository
from homeserver.media.thumbnails import METHODS, SCALE

from .client import FederationClient, FederationRequestError, fed_path
from .inbound_auth import authenticated

MEDIA_REPOSITORY = web.AppKey("federation_media", MediaRepository)


def _int(request: web.Request, name: str, default: int | None = None) -> int:
    value = request.query.get(name)
    if value is None:
        if default is None:
            raise MatrixError(400, "M_MISSING_PARAM", f"`{name}` is required")
        return default
    if not value.isdigit():
        raise MatrixError(400, "M_INVALID_PARAM", f"`{name}` must be a non-negative integer")
    return int(value)


def _answer(data: bytes, content_type: str, disposition: str) -> web.Response:
    multipart_type, body = build(data, content_type, disposition)
    return web.Response(body=body, headers={"Content-Type": multipart_type})


async def _read(path: Path) -> bytes:
    return await asyncio.to_thread(path.read_bytes)


async def download(request: web.Request, origin: str) -> web.StreamResponse:
    repo = request.app[MEDIA_REPOSITORY]
    timeout = _int(request, "timeout_ms", DEFAULT_TIMEOUT_MS)
    found = await repo.download(repo.server_name, request.match_info["mediaId"], timeout)
    data = await _read(found.path)
    disposition = content_disposition(found.content_type, found.filename)
    return _answer(data, found.content_type, disposition)


async def thumbnail(request: web.Request, origin: str) -> web.StreamResponse:
    repo = request.app[MEDIA_REPOSITORY]
    width, height = _int(request, "width"), _int(request, "height")
    if width == 0 or height == 0:
        raise MatrixError(400, "M_INVALID_PARAM", "`width` and `height` must be positive")
    method = request.query.get("method") or SCALE
    if method not in METHODS:
        raise MatrixError(400, "M_INVALID_PARAM", "`method` must be `crop` or `scale`")
    animated = request.query.get("animated", "false") == "true"
    reply = await repo.thumbnail(
        repo.server_name,
        request.match_info["mediaId"],
        width=width,
        height=height,
        method=method,
        animated=animated,
        timeout_ms=_int(request, "timeout_ms", DEFAULT_TIMEOUT_MS),
    )
    data = reply.data if reply.path is None else await _read(reply.path)
    return _answer(data or b"", reply.content_type, "inline")


class MediaFetcher:
    """``homeserver.media.remote.Fetch`` over federation."""

    def __init__(self, client: FederationClient) -> None:
        self.client = client

    async def __call__(
        self, server_name: str, media_id: str, timeout_ms: int, max_bytes: int
    ) -> FetchedMedia:
        timeout = max(1.0, min(timeout_ms, 60_000) / 1000 + 5)
        try:
            response = await self.client.get_raw(
                server_name,
                fed_path("/_matrix/federation/v1/media/download/{}", media_id),
                {"timeout_ms": str(timeout_ms)},
                timeout=timeout,
                max_bytes=max_bytes + 64 * 1024,
            )
        except FederationRequestError as exc:
            if exc.status == 404 and exc.errcode == "M_UNRECOGNIZED":
                return await self._legacy(server_name, media_id, timeout, max_bytes)
            raise _failed(server_name, exc) from None
        try:
            _, part = parse(response.headers.get("content-type") or "", response.body)
        except MultipartError as exc:
            raise MatrixError(502, "M_UNKNOWN", f"{server_name} sent bad media: {exc}") from None
        if part.location is not None:
            # A redirect to a URL of the server's choosing (e.g. a CDN): not followed, so
            # that a peer cannot make us fetch arbitrary addresses.
            raise MatrixError(502, "M_UNKNOWN", f"{server_name} redirected the media")
        return FetchedMedia(
            part.content_type or "application/octet-stream", _filename(part.disposition), part.body
        )

    async def _legacy(
        self, server_name: str, media_id: str, timeout: float, max_bytes: int
    ) -> FetchedMedia:
        try:
            response = await self.client.get_raw(
                server_name,
                fed_path("/_matrix/media/v3/download/{}/{}", server_name, media_id),
                {"allow_remote": "false"},
                timeout=timeout,
                max_bytes=max_bytes,
            )
        except FederationRequestError as exc:
            raise _failed(server_name, exc) from None
        content_type = response.headers.get("content-type") or "application/octet-stream"
        filename = _filename(response.headers.get("content-disposition"))
        return FetchedMedia(content_type, filename, response.body)


def _failed(server_name: str, exc: FederationRequestError) -> MatrixError:
    if exc.status == 404:
        return not_found("Unknown media")
    return MatrixError(502, "M_UNKNOWN", f"Could not fetch the media from {server_name}: {exc}")


def _filename(disposition: str | None) -> str | None:
    """``filename`` of a Content-Disposition header (the plain form only)."""
    if not disposition:
        return None
    for param in disposition.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "filename" and value:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            return value or None
    return None


def setup(app: web.Application, repository: MediaRepository) -> None:
    app[MEDIA_REPOSITORY] = repository
    prefix = "/_matrix/federation/v1/media"
    app.add_routes(
        [
            web.get(prefix + "/download/{mediaId}", authenticated(download)),
            web.get(prefix + "/thumbnail/{mediaId}", authenticated(thumbnail)),
        ]
    )
