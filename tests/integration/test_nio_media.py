"""matrix-nio against the real server (a subprocess, both databases): media.

nio uploads a PNG, an animated GIF and an OGG (POST /_matrix/media/v3/upload), downloads
each byte for byte through the authenticated /_matrix/client/v1/media/download, and asks
for thumbnails (/_matrix/client/v1/media/thumbnail). The media are made in the test.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

nio = pytest.importorskip("nio")

from nio import (  # noqa: E402
    AsyncClient,
    AsyncClientConfig,
    DownloadError,
    MemoryDownloadResponse,
    RegisterResponse,
    ResizingMethod,
    ThumbnailResponse,
    UploadResponse,
)

from tests.support.media_samples import animated_gif, image_info, ogg_opus, png  # noqa: E402

from .server_process import ConcordServer  # noqa: E402
from .test_nio_client import ok  # noqa: E402

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def clients(server: ConcordServer) -> AsyncIterator[Callable[..., AsyncClient]]:
    made: list[AsyncClient] = []

    def make(user: str = "") -> AsyncClient:
        config = AsyncClientConfig(encryption_enabled=False, store_sync_tokens=False)
        client = AsyncClient(server.url, user, config=config)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


async def upload(client: AsyncClient, data: bytes, content_type: str, filename: str) -> str:
    resp, keys = await client.upload(
        io.BytesIO(data), content_type=content_type, filename=filename, filesize=len(data)
    )
    assert keys is None
    return ok(resp, UploadResponse).content_uri


async def test_nio_uploads_downloads_and_thumbnails(server: ConcordServer, clients: Any) -> None:
    alice, bob = clients(), clients()
    ok(await alice.register("media_alice", PASSWORD), RegisterResponse)
    ok(await bob.register("media_bob", PASSWORD), RegisterResponse)

    image = png(640, 480)
    gif = animated_gif(300, 200, frames=3)
    ogg = ogg_opus()
    uploads = {}
    for data, content_type, filename in [
        (image, "image/png", "photo.png"),
        (gif, "image/gif", "dance.gif"),
        (ogg, "audio/ogg", "voice.ogg"),
    ]:
        uri = await upload(alice, data, content_type, filename)
        assert uri.startswith("mxc://localhost/")
        uploads[filename] = uri
        # Downloaded by another user, byte for byte, with its type and name.
        got = ok(await bob.download(uri), MemoryDownloadResponse)
        assert got.body == data
        assert got.content_type == content_type
        assert got.filename == filename

    # A thumbnail of the PNG: 96x96 crop, and a scaled one within 320x240.
    server_name, media_id = uploads["photo.png"].removeprefix("mxc://").split("/")
    thumb = ok(
        await bob.thumbnail(server_name, media_id, 96, 96, ResizingMethod.crop), ThumbnailResponse
    )
    assert thumb.content_type == "image/png"
    assert image_info(thumb.body)[:2] == ("PNG", (96, 96))
    thumb = ok(
        await bob.thumbnail(server_name, media_id, 320, 240, ResizingMethod.scale),
        ThumbnailResponse,
    )
    assert image_info(thumb.body)[:2] == ("PNG", (320, 240))
    # The GIF's thumbnail is its first frame (nio does not ask for animation).
    server_name, media_id = uploads["dance.gif"].removeprefix("mxc://").split("/")
    thumb = ok(
        await bob.thumbnail(server_name, media_id, 32, 32, ResizingMethod.crop), ThumbnailResponse
    )
    assert image_info(thumb.body) == ("PNG", (32, 32), 1)

    # Unknown media is an error nio understands.
    missing = await bob.download("mxc://localhost/NoSuchMediaHere")
    assert isinstance(missing, DownloadError)
    assert missing.status_code == "M_NOT_FOUND"
