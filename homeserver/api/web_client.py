"""The web client at ``/``: the files Vite builds into ``web/dist``.

- ``/`` and client-side routes (``/channels/...``, any GET outside the API prefixes that
  names no file) answer ``index.html``: the single-page app routes itself.
- ``/assets/*`` are Vite's content-hashed bundles: a changed file gets a new name, so
  they are cached for a year (``immutable``); a missing one is a 404, never index.html
  (a stale page asking for an old bundle must fail loudly, not parse HTML as script).
- ``index.html`` and other root files are ``no-cache``: revalidated with their ETag
  (RFC 9111 §5.2.2.4, RFC 9110 §13.1.2), so a rebuilt client is picked up at once.
- Text types are sent gzip-compressed when the browser accepts it (RFC 9110 §8.4).

Paths are decoded once by the router; any ``.``/``..`` segment, backslash or NUL is
refused and the resolved file must stay inside the directory (no traversal, also not
through a symlink). The API prefixes never reach this module: the catch-all pattern
excludes them, so unknown API paths keep their Matrix ``M_UNRECOGNIZED`` errors.

Files are small and few; they are read on first use and kept in memory until their
size or modification time changes (a rebuild while the server runs).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from homeserver.http import web

log = logging.getLogger(__name__)

# Paths the SPA fallback must never answer: the server's own APIs.
_API_PATTERN = r"(?!_matrix/|_synapse/|_concord/|\.well-known/|health$|metrics$)[^?#]*"

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".wasm": "application/wasm",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".wav": "audio/wav",
}
_COMPRESSIBLE = (".html", ".js", ".mjs", ".css", ".json", ".map", ".svg", ".txt", ".webmanifest")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_NOT_BUILT = "The web client is not built. Run `make run` (or `npm ci && npm run build` in web/)."


@dataclass(frozen=True)
class _File:
    stamp: tuple[int, int]  # (size, mtime_ns): a change means the file was rebuilt
    body: bytes
    gzipped: bytes | None
    etag: str
    content_type: str


class WebClientFiles:
    """The files of one built client directory, read on demand and cached."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[Path, _File] = {}

    def find(self, relative: str) -> _File | None:
        """The file at ``relative`` (already percent-decoded), None if there is none or
        the path tries to leave the directory."""
        parts = relative.split("/")
        if any(p in (".", "..") or "\\" in p or "\x00" in p for p in parts):
            return None
        parts = [p for p in parts if p]
        if not parts:
            return None
        try:
            root = self.root.resolve()
            path = root.joinpath(*parts).resolve()
        except (OSError, ValueError):
            return None
        if not path.is_relative_to(root):
            return None
        try:
            stat = path.stat()
        except (OSError, ValueError):
            return None
        if not path.is_file():
            return None
        stamp = (stat.st_size, stat.st_mtime_ns)
        cached = self._cache.get(path)
        if cached is not None and cached.stamp == stamp:
            return cached
        try:
            body = path.read_bytes()
        except OSError:
            return None
        suffix = path.suffix.lower()
        gzipped = None
        if suffix in _COMPRESSIBLE and len(body) > 512:
            gzipped = gzip.compress(body, compresslevel=9, mtime=0)
        entry = _File(
            stamp=stamp,
            body=body,
            gzipped=gzipped,
            etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
            content_type=_TYPES.get(suffix, "application/octet-stream"),
        )
        self._cache[path] = entry
        return entry


def _looks_like_a_file(path: str) -> bool:
    """A request for ``/favicon.ico`` or ``/x.js`` wants that file, not the app."""
    last = path.rsplit("/", 1)[-1]
    return "." in last and os.path.splitext(last)[1].lower() in _TYPES


def _serve(request: web.Request, found: _File, cache_control: str) -> web.Response:
    headers = {"Cache-Control": cache_control, "ETag": found.etag, "Vary": "Accept-Encoding"}
    headers["X-Content-Type-Options"] = "nosniff"
    if found.etag in (request.headers.get("If-None-Match") or ""):
        return web.Response(status=304, headers=headers)
    body = found.body
    accepts = request.headers.get("Accept-Encoding") or ""
    if found.gzipped is not None and "gzip" in accepts:
        body = found.gzipped
        headers["Content-Encoding"] = "gzip"
    return web.Response(body=body, content_type=found.content_type, headers=headers)


def _not_found(text: str = "Not found") -> web.Response:
    return web.Response(status=404, text=text, headers={"Cache-Control": "no-store"})


def routes(root: Path) -> list[web.RouteDef]:
    files = WebClientFiles(root)

    async def index(request: web.Request) -> web.Response:
        found = files.find("index.html")
        if found is None:
            return _not_found(_NOT_BUILT)
        return _serve(request, found, REVALIDATE)

    async def asset(request: web.Request) -> web.Response:
        found = files.find("assets/" + request.match_info["name"])
        if found is None:
            return _not_found()
        return _serve(request, found, IMMUTABLE)

    async def other(request: web.Request) -> web.Response:
        path = request.match_info["path"]
        found = files.find(path)
        if found is not None:
            return _serve(request, found, REVALIDATE)
        if path.startswith("assets/") or _looks_like_a_file(path):
            return _not_found()
        return await index(request)  # a client-side route

    return [
        web.get("/", index),
        web.get("/assets/{name:.+}", asset),
        web.get("/{path:" + _API_PATTERN + "}", other),
    ]


def setup(app: web.Application, root: Path | None) -> None:
    """Serve the client from ``root``; call last, after every other route (the SPA
    fallback is a catch-all). None: no web client (``/`` stays a 404)."""
    if root is None:
        return
    if not (root / "index.html").is_file():
        log.warning("web client: %s has no index.html yet (build it: make run)", root)
    app.add_routes(routes(root))
