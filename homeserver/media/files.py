"""Where media bytes live on disk: ``<media_store_path>/local_content/ab/cd/<rest of id>``
and ``local_thumbnails/ab/cd/<rest of id>/<w>x<h>-<method>[-animated]`` (sharded so no
directory grows huge). Files are written whole to a temporary name and renamed into
place, so a reader sees all of a file or none of it. Blocking: call from a thread.

Only ids that passed ``content.valid_media_id`` (and came from the database) are turned
into paths: an id never holds ``/`` or ``.`` (spec: "Security considerations").
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from .content import valid_media_id


class MediaFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _shard(self, base: str, media_id: str) -> Path:
        if not valid_media_id(media_id) or len(media_id) < 5:
            raise ValueError(f"not a local media id: {media_id!r}")
        return self.root / base / media_id[:2] / media_id[2:4] / media_id[4:]

    def content_path(self, media_id: str) -> Path:
        return self._shard("local_content", media_id)

    def thumbnail_path(
        self, media_id: str, width: int, height: int, method: str, animated: bool
    ) -> Path:
        name = f"{width}x{height}-{method}" + ("-animated" if animated else "")
        return self._shard("local_thumbnails", media_id) / name

    def remote_path(self, server_name: str, media_id: str) -> Path:
        """Where a remote server's media is kept: named by a hash, so neither the server
        name nor the id (both from outside) ever become path components."""
        digest = hashlib.sha256(f"{server_name}/{media_id}".encode()).hexdigest()
        return self.root / "remote_content" / digest[:2] / digest[2:4] / digest[4:]


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` at ``path`` atomically (temporary file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with temporary.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
