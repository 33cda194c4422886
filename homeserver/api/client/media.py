"""The content repository's endpoints. spec: client-server "Content repository".

- ``POST /_matrix/media/v3/upload``, ``POST /_matrix/media/v1/create`` and
  ``PUT /_matrix/media/v3/upload/{serverName}/{mediaId}`` (bodies up to
  ``max_upload_size``: these routes carry their own body limit);
- the authenticated ``/_matrix/client/v1/media/{download,thumbnail,config,preview_url}``
  (spec v1.11);
- the deprecated unauthenticated ``/_matrix/media/{v3,r0}/download`` and ``/thumbnail``
  (and the authenticated legacy ``/config`` and ``/preview_url``). Like Synapse, local
  media stays downloadable there: no "freeze".

URL previews are disabled: ``preview_url`` answers 404 M_NOT_FOUND.

``setup(app)`` builds the ``MediaRepository`` (published under ``MEDIA_KEY``) and
registers the routes.
"""

from __future__ import annotations

import re

from homeserver.api.responses import json_response
from homeserver.appkeys import CLOCK_KEY, CONFIG_KEY, STORE_KEY
from homeserver.errors import MatrixError
from homeserver.http import web
from homeserver.media.content import (
    content_disposition,
    parse_content_type,
    valid_filename,
)
from homeserver.media.files import MediaFiles
from homeserver.media.repository import DEFAULT_TIMEOUT_MS, MediaRepository
from homeserver.media.thumbnails import METHODS, SCALE

from ..auth import require_user
from .media_serving import CACHE_AUTHENTICATED, CACHE_PUBLIC, content_headers, serve_file

__all__ = ["MEDIA_KEY", "routes", "setup"]

MEDIA_KEY = web.AppKey("media", MediaRepository)

CLIENT_MEDIA = "/_matrix/client/v1/media"
LEGACY_MEDIA = ("/_matrix/media/v3", "/_matrix/media/r0")

_THUMBNAIL_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
}


def _repo(request: web.Request) -> MediaRepository:
    return request.app[MEDIA_KEY]


def _invalid(message: str) -> MatrixError:
    return MatrixError(400, "M_INVALID_PARAM", message)


def _upload_input(request: web.Request) -> tuple[str, str | None]:
    """The upload's Content-Type and ``filename``."""
    content_type = parse_content_type(request.headers.get("Content-Type"))
    if content_type is None:
        raise _invalid("The Content-Type header is not a valid media type")
    filename = request.query.get("filename") or None
    if filename is not None and not valid_filename(filename):
        raise _invalid("`filename` must be at most 255 characters, without control characters")
    return content_type, filename


_INTEGER = re.compile(r"[0-9]{1,12}")


def _int_param(request: web.Request, name: str, *, default: int | None = None) -> int:
    text = request.query.get(name)
    if text is None or text == "":
        if default is None:
            raise MatrixError(400, "M_MISSING_PARAM", f"`{name}` is required")
        return default
    if _INTEGER.fullmatch(text) is None:
        raise _invalid(f"`{name}` must be a non-negative integer")
    return int(text)


def _bool_param(request: web.Request, name: str, default: bool) -> bool:
    text = request.query.get(name)
    if text is None:
        return default
    if text.lower() in ("true", "1"):
        return True
    if text.lower() in ("false", "0"):
        return False
    raise _invalid(f"`{name}` must be true or false")


def _timeout_ms(request: web.Request) -> int:
    return _int_param(request, "timeout_ms", default=DEFAULT_TIMEOUT_MS)


# -- uploads ----------------------------------------------------------------------------


async def upload(request: web.Request) -> web.Response:
    requester = await require_user(request)
    content_type, filename = _upload_input(request)
    data = await request.read()
    uri = await _repo(request).upload(requester.user_id, data, content_type, filename)
    return json_response({"content_uri": uri})


async def create(request: web.Request) -> web.Response:
    requester = await require_user(request)
    uri, expires = await _repo(request).create(requester.user_id)
    return json_response({"content_uri": uri, "unused_expires_at": expires})


async def upload_to(request: web.Request) -> web.Response:
    requester = await require_user(request)
    content_type, filename = _upload_input(request)
    data = await request.read()
    info = request.match_info
    await _repo(request).upload_to(
        requester.user_id, info["serverName"], info["mediaId"], data, content_type, filename
    )
    return json_response({})


# -- downloads --------------------------------------------------------------------------


async def _download(request: web.Request, cache_control: str) -> web.StreamResponse:
    info = request.match_info
    filename = info.get("fileName")
    if filename is not None and not valid_filename(filename):
        raise _invalid("The file name must be at most 255 characters, without control characters")
    found = await _repo(request).download(info["serverName"], info["mediaId"], _timeout_ms(request))
    headers = content_headers(
        found.content_type,
        content_disposition(found.content_type, filename or found.filename),
        cache_control,
    )
    return await serve_file(request, found.path, headers, sha256=found.etag)


async def download(request: web.Request) -> web.StreamResponse:
    await require_user(request)
    return await _download(request, CACHE_AUTHENTICATED)


def _check_allow_remote(request: web.Request) -> None:
    """spec: legacy downloads' ``allow_remote=false`` — never fetch from another server
    (it is how servers ask each other, and prevents loops)."""
    remote = request.match_info["serverName"] != _repo(request).server_name
    if not _bool_param(request, "allow_remote", True) and remote:
        raise MatrixError(404, "M_NOT_FOUND", "Remote media not fetched: allow_remote=false")


async def download_legacy(request: web.Request) -> web.StreamResponse:
    _check_allow_remote(request)
    return await _download(request, CACHE_PUBLIC)


async def _thumbnail(request: web.Request, cache_control: str) -> web.StreamResponse:
    info = request.match_info
    width = _int_param(request, "width")
    height = _int_param(request, "height")
    if width == 0 or height == 0:
        raise _invalid("`width` and `height` must be positive")
    method = request.query.get("method") or SCALE
    if method not in METHODS:
        raise _invalid("`method` must be `crop` or `scale`")
    # spec: animated "When not provided, the server SHOULD NOT return an animated thumbnail".
    animated = _bool_param(request, "animated", False)
    reply = await _repo(request).thumbnail(
        info["serverName"],
        info["mediaId"],
        width=width,
        height=height,
        method=method,
        animated=animated,
        timeout_ms=_timeout_ms(request),
    )
    # spec: the thumbnail's Content-Disposition "MUST be inline".
    extension = _THUMBNAIL_EXTENSIONS.get(reply.content_type, "png")
    headers = content_headers(
        reply.content_type, f'inline; filename="thumbnail.{extension}"', cache_control
    )
    if reply.path is not None:
        return await serve_file(request, reply.path, headers, sha256=None)
    return web.Response(body=reply.data or b"", headers=headers)


async def thumbnail(request: web.Request) -> web.StreamResponse:
    await require_user(request)
    return await _thumbnail(request, CACHE_AUTHENTICATED)


async def thumbnail_legacy(request: web.Request) -> web.StreamResponse:
    _check_allow_remote(request)
    return await _thumbnail(request, CACHE_PUBLIC)


async def media_config(request: web.Request) -> web.Response:
    await require_user(request)
    return json_response(_repo(request).config())


async def preview_url(request: web.Request) -> web.Response:
    await require_user(request)
    if not request.query.get("url"):
        raise MatrixError(400, "M_MISSING_PARAM", "`url` is required")
    # Fetching arbitrary URLs for previews is not offered (it needs careful SSRF
    # protection): the preview is "not found" and clients show none.
    raise MatrixError(404, "M_NOT_FOUND", "URL previews are disabled on this server")


def routes(max_upload_size: int) -> list[web.RouteDef]:
    download_paths = (
        "/download/{serverName}/{mediaId}",
        "/download/{serverName}/{mediaId}/{fileName}",
    )
    thumbnail_path = "/thumbnail/{serverName}/{mediaId}"
    defs = [
        web.post("/_matrix/media/v1/create", create),
        web.put(
            "/_matrix/media/v3/upload/{serverName}/{mediaId}", upload_to, max_body=max_upload_size
        ),
        *(web.get(CLIENT_MEDIA + path, download) for path in download_paths),
        web.get(CLIENT_MEDIA + thumbnail_path, thumbnail),
        web.get(CLIENT_MEDIA + "/config", media_config),
        web.get(CLIENT_MEDIA + "/preview_url", preview_url),
    ]
    for prefix in LEGACY_MEDIA:
        defs += [
            web.post(prefix + "/upload", upload, max_body=max_upload_size),
            *(web.get(prefix + path, download_legacy) for path in download_paths),
            web.get(prefix + thumbnail_path, thumbnail_legacy),
            web.get(prefix + "/config", media_config),
            web.get(prefix + "/preview_url", preview_url),
        ]
    return defs


def setup(app: web.Application) -> MediaRepository:
    config = app[CONFIG_KEY]
    root = config.media_store_path or config.data_dir / "media"
    repo = app[MEDIA_KEY] = MediaRepository(
        app[STORE_KEY].media,
        MediaFiles(root),
        app[CLOCK_KEY],
        config.server_name,
        max_upload_size=config.max_upload_size,
        max_image_pixels=config.max_image_pixels,
    )

    async def release_waiting(app: web.Application) -> None:
        repo.release_waiting()

    app.on_shutdown.append(release_waiting)
    app.add_routes(routes(config.max_upload_size))
    return repo
