"""Thumbnails over HTTP: GET /_matrix/client/v1/media/thumbnail/{serverName}/{mediaId}
(and the deprecated /_matrix/media/v3/thumbnail). spec: client-server "Thumbnails".
"""

from __future__ import annotations

import asyncio

from homeserver.api.client.media import MEDIA_KEY
from homeserver.appkeys import STORE_KEY
from homeserver.storage.database import Row, Txn
from tests.support.matrix_client import Server, User
from tests.support.media_samples import animated_gif, image_info, jpeg, ogg_opus, png

from .media_client import LEGACY_MEDIA, fetch, split_mxc, thumbnail, thumbnail_path, upload_ok
from .test_upload_download import assert_served_safely


async def thumbnail_rows(server: Server) -> list[tuple[object, ...]]:
    def rows(txn: Txn) -> list[Row]:
        return txn.fetchall(
            "SELECT box_width, box_height, method, animated, width, height, content_type"
            " FROM local_media_thumbnails ORDER BY box_width, method, animated"
        )

    return [tuple(r) for r in await server.app[STORE_KEY].db.read(rows)]


async def test_sizes_and_methods(server: Server, alice: User) -> None:
    uri = await upload_ok(alice, png(1000, 800))
    cases = [
        # (width, height, method) -> (format, size): crop fills the box, scale fits in it,
        # from the smallest standard size at least as large as asked.
        ((32, 32, "crop"), ("PNG", (32, 32))),
        ((20, 20, "crop"), ("PNG", (32, 32))),
        ((96, 96, "crop"), ("PNG", (96, 96))),
        ((50, 50, "crop"), ("PNG", (96, 96))),
        ((320, 240, "scale"), ("PNG", (300, 240))),
        ((100, 100, "scale"), ("PNG", (300, 240))),
        ((640, 480, "scale"), ("PNG", (600, 480))),
        ((700, 500, "scale"), ("PNG", (750, 600))),
        # Not a standard size: exactly what was asked, aspect of the request for crop.
        ((60, 120, "crop"), ("PNG", (60, 120))),
        ((900, 100, "scale"), ("PNG", (125, 100))),
        ((900, 900, "scale"), ("PNG", (900, 720))),
    ]
    for (width, height, method), (fmt, size) in cases:
        got = await thumbnail(alice, uri, width=width, height=height, method=method)
        assert got.status == 200, (width, height, method, got)
        assert image_info(got.body)[:2] == (fmt, size), (width, height, method)
        assert got.headers["Content-Type"] == "image/png"
        assert got.headers["Content-Disposition"] == 'inline; filename="thumbnail.png"'
        assert_served_safely(got.headers)
    # The default method is scale.
    got = await thumbnail(alice, uri, width=320, height=240)
    assert image_info(got.body)[1] == (300, 240)
    # The standard sizes were kept, the others not.
    assert await thumbnail_rows(server) == [
        (32, 32, "crop", 0, 32, 32, "image/png"),
        (96, 96, "crop", 0, 96, 96, "image/png"),
        (320, 240, "scale", 0, 300, 240, "image/png"),
        (640, 480, "scale", 0, 600, 480, "image/png"),
        (800, 600, "scale", 0, 750, 600, "image/png"),
    ]
    root = server.app[MEDIA_KEY].files.root / "local_thumbnails"
    assert len([p for p in root.rglob("*") if p.is_file()]) == 5
    # A kept thumbnail is served again as it is.
    first = await thumbnail(alice, uri, width=96, height=96, method="crop")
    again = await thumbnail(alice, uri, width=90, height=90, method="crop")
    assert first.body == again.body


async def test_never_upscaled_small_images_served_as_they_are(server: Server, alice: User) -> None:
    small = png(40, 30)
    uri = await upload_ok(alice, small)
    # Smaller than asked: the content itself (spec: "return the original content").
    got = await thumbnail(alice, uri, width=320, height=240)
    assert got.status == 200 and got.body == small
    assert got.headers["Content-Type"] == "image/png"
    assert got.headers["Content-Disposition"] == 'inline; filename="thumbnail.png"'
    # Larger than asked in one dimension: cropped, never scaled up.
    got = await thumbnail(alice, uri, width=32, height=32, method="crop")
    assert image_info(got.body)[:2] == ("PNG", (30, 30))
    got = await thumbnail(alice, uri, width=35, height=20, method="scale")
    assert image_info(got.body)[1] == (40, 30)  # within 320x240, as large as it is


async def test_jpeg_thumbnails_are_jpeg(server: Server, alice: User) -> None:
    uri = await upload_ok(alice, jpeg(400, 300), "image/jpeg")
    got = await thumbnail(alice, uri, width=96, height=96, method="crop")
    assert got.headers["Content-Type"] == "image/jpeg"
    assert got.headers["Content-Disposition"] == 'inline; filename="thumbnail.jpg"'
    assert image_info(got.body)[:2] == ("JPEG", (96, 96))


async def test_animated_thumbnails(server: Server, alice: User) -> None:
    gif = animated_gif(200, 150, frames=4)
    uri = await upload_ok(alice, gif, "image/gif")
    # animated=true: still animated (WebP, which the spec prefers).
    got = await thumbnail(alice, uri, width=96, height=96, method="crop", animated=True)
    assert got.status == 200
    assert got.headers["Content-Type"] in ("image/webp", "image/gif")
    fmt, size, frames = image_info(got.body)
    assert size == (96, 96) and frames == 4
    # animated=false, or not said: the first frame, a still PNG.
    for params in ({"animated": False}, {}):
        got = await thumbnail(alice, uri, width=96, height=96, method="crop", **params)
        assert got.headers["Content-Type"] == "image/png"
        fmt, size, frames = image_info(got.body)
        assert (fmt, size, frames) == ("PNG", (96, 96), 1)
    # Asked larger than the GIF: animated, the GIF itself; else its first frame.
    got = await thumbnail(alice, uri, width=800, height=600, animated=True)
    assert got.body == gif and got.headers["Content-Type"] == "image/gif"
    got = await thumbnail(alice, uri, width=800, height=600, animated=False)
    assert image_info(got.body) == ("PNG", (200, 150), 1)
    # A still image asked for animated is a still thumbnail.
    still = await upload_ok(alice, png(400, 300))
    got = await thumbnail(alice, still, width=96, height=96, method="crop", animated=True)
    assert image_info(got.body) == ("PNG", (96, 96), 1)
    # Kept apart: animated and not.
    kept = {(r[2], r[3], r[6]) for r in await thumbnail_rows(server)}
    assert ("crop", 1, "image/webp") in kept or ("crop", 1, "image/gif") in kept
    assert ("crop", 0, "image/png") in kept


async def test_concurrent_requests_share_one_thumbnail(server: Server, alice: User) -> None:
    uri = await upload_ok(alice, png(1000, 800))
    replies = await asyncio.gather(
        *(thumbnail(alice, uri, width=640, height=480) for _ in range(5))
    )
    assert {r.status for r in replies} == {200}
    assert len({r.body for r in replies}) == 1
    assert len(await thumbnail_rows(server)) == 1


async def test_thumbnail_errors(server: Server, alice: User) -> None:
    uri = await upload_ok(alice, png(100, 100))
    cases = [
        ({"height": "32"}, 400, "M_MISSING_PARAM"),
        ({"width": "32"}, 400, "M_MISSING_PARAM"),
        ({"width": "abc", "height": "32"}, 400, "M_INVALID_PARAM"),
        ({"width": "-5", "height": "32"}, 400, "M_INVALID_PARAM"),
        ({"width": "0", "height": "32"}, 400, "M_INVALID_PARAM"),
        ({"width": "32", "height": "32.5"}, 400, "M_INVALID_PARAM"),
        ({"width": "32", "height": "32", "method": "zoom"}, 400, "M_INVALID_PARAM"),
        ({"width": "32", "height": "32", "animated": "maybe"}, 400, "M_INVALID_PARAM"),
        ({"width": "32", "height": "32", "timeout_ms": "-1"}, 400, "M_INVALID_PARAM"),
    ]
    for params, status, errcode in cases:
        got = await fetch(alice.http, thumbnail_path(uri), token=alice.token, params=params)
        assert (got.status, got.errcode) == (status, errcode), params
    # Content that is no image, or no image Pillow reads (SVG): 400 M_UNKNOWN (spec).
    for data, content_type in [
        (ogg_opus(), "audio/ogg"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
        (b"hello", "text/plain"),
    ]:
        other = await upload_ok(alice, data, content_type)
        got = await thumbnail(alice, other, width=32, height=32)
        assert (got.status, got.errcode) == (400, "M_UNKNOWN"), content_type
    # Unknown media, and media of a server that cannot be reached.
    _, media_id = split_mxc(uri)
    for path, status, errcode in (
        ("/_matrix/client/v1/media/thumbnail/test.local/NoSuchMedia", 404, "M_NOT_FOUND"),
        (f"/_matrix/client/v1/media/thumbnail/other.example/{media_id}", 502, "M_UNKNOWN"),
    ):
        got = await fetch(alice.http, path, token=alice.token, params={"width": "1", "height": "1"})
        assert (got.status, got.errcode) == (status, errcode), path
    # Authentication.
    got = await fetch(alice.http, thumbnail_path(uri), params={"width": "32", "height": "32"})
    assert (got.status, got.errcode) == (401, "M_MISSING_TOKEN")
    # Too many pixels to thumbnail (the limit lowered after the upload).
    server.app[MEDIA_KEY].max_image_pixels = 100 * 100 - 1
    got = await thumbnail(alice, uri, width=32, height=32, method="crop")
    assert (got.status, got.errcode) == (413, "M_TOO_LARGE")


async def test_legacy_thumbnail(server: Server, alice: User) -> None:
    uri = await upload_ok(alice, png(500, 500))
    got = await fetch(
        alice.http, thumbnail_path(uri, LEGACY_MEDIA),
        params={"width": "32", "height": "32", "method": "crop"},
    )  # fmt: skip
    assert got.status == 200
    assert image_info(got.body)[:2] == ("PNG", (32, 32))
    assert_served_safely(got.headers)
