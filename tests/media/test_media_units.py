"""The media package's pure parts and its Pillow work, without a server: content types,
dispositions, upload sniffing, thumbnail geometry and rendering, the test OGG."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from homeserver.media.content import (
    content_disposition,
    media_type,
    new_media_id,
    parse_content_type,
    valid_filename,
    valid_media_id,
)
from homeserver.media.files import MediaFiles, write_file
from homeserver.media.sniff import BadContent, TooManyPixels, check_upload
from homeserver.media.thumbnails import (
    CROP,
    SCALE,
    Box,
    CannotThumbnail,
    ImageTooLarge,
    Original,
    Thumbnail,
    choose_box,
    crop_region,
    cropped_size,
    render,
    scaled_size,
)
from tests.support.media_samples import (
    animated_gif,
    image_info,
    jpeg,
    ogg_opus,
    ogg_pages_valid,
    png,
)


def test_media_ids() -> None:
    ids = {new_media_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(valid_media_id(i) and len(i) == 24 for i in ids)
    for bad in ("", "a.b", "../x", "a/b", "a b", "é", "x" * 256):
        assert not valid_media_id(bad), bad
    assert valid_media_id("abc-DEF_123")


def test_content_types() -> None:
    assert parse_content_type(None) == "application/octet-stream"
    assert parse_content_type("  ") == "application/octet-stream"
    assert parse_content_type("image/png") == "image/png"
    assert parse_content_type("text/plain; charset=utf-8") == "text/plain; charset=utf-8"
    for bad in ("png", "image/", "/png", "image/png/x", "image png", "a/b" + "c" * 300):
        assert parse_content_type(bad) is None, bad
    assert media_type("Text/Plain; charset=utf-8") == "text/plain"
    assert media_type(None) == "application/octet-stream"


def test_dispositions() -> None:
    assert content_disposition("image/png", None) == "inline"
    assert content_disposition("IMAGE/PNG", "a.png") == 'inline; filename="a.png"'
    assert content_disposition("text/html; charset=utf-8", "x.html") == (
        'attachment; filename="x.html"'
    )
    assert content_disposition("image/svg+xml", None) == "attachment"
    assert content_disposition("audio/ogg", "v.ogg") == 'inline; filename="v.ogg"'
    assert content_disposition("video/mp4", None) == "inline"
    assert content_disposition("application/pdf", None) == "attachment"
    assert content_disposition("image/png", 'a"b\\c') == 'inline; filename="a\\"b\\\\c"'
    assert content_disposition("image/png", "日本.png") == (
        "inline; filename*=utf-8''%E6%97%A5%E6%9C%AC.png"
    )
    assert valid_filename("a b.png") and valid_filename("日本.png")
    for bad in ("", "a\r\nb", "a\x00", "a\x7f", "x" * 256):
        assert not valid_filename(bad)


def test_sniffing() -> None:
    check_upload(png(), "image/png", 10_000)
    check_upload(png(), "image/apng", 10_000)
    check_upload(jpeg(), "image/jpeg", 10_000)
    check_upload(animated_gif(), "image/gif; foo=bar", 10_000)
    check_upload(ogg_opus(), "audio/ogg", 10_000)
    check_upload(b"whatever", "image/svg+xml", 10_000)  # no rule
    check_upload(b"whatever", "application/octet-stream", 10_000)
    for data, kind in [
        (jpeg(), "image/png"),
        (png(), "image/jpeg"),
        (b"GIF89a", "image/gif"),
        (b"", "audio/ogg"),
        (b"fLaC", "audio/ogg"),
    ]:
        with pytest.raises(BadContent):
            check_upload(data, kind, 10_000)
    with pytest.raises(TooManyPixels):
        check_upload(png(101, 100), "image/png", 10_000)
    check_upload(png(100, 100), "image/png", 10_000)


def test_the_test_ogg_is_a_valid_ogg_opus_stream() -> None:
    data = ogg_opus()
    assert data.startswith(b"OggS") and ogg_pages_valid(data)
    assert not ogg_pages_valid(data[:-1] + bytes([data[-1] ^ 1]))
    av = pytest.importorskip("av")  # a real demuxer and decoder, when installed
    with av.open(io.BytesIO(data), format="ogg") as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "opus"
        samples = sum(frame.samples for frame in container.decode(stream))
    assert samples == 960 - 312  # one 20 ms frame less the pre-skip


def test_choose_box() -> None:
    assert choose_box(32, 32, CROP) == Box(32, 32, CROP, True)
    assert choose_box(1, 1, CROP) == Box(32, 32, CROP, True)
    assert choose_box(33, 33, CROP) == Box(96, 96, CROP, True)
    assert choose_box(97, 97, CROP) == Box(97, 97, CROP, False)
    assert choose_box(40, 20, CROP) == Box(40, 20, CROP, False)  # another aspect
    assert choose_box(1, 1, SCALE) == Box(320, 240, SCALE, True)
    assert choose_box(320, 241, SCALE) == Box(640, 480, SCALE, True)
    assert choose_box(800, 600, SCALE) == Box(800, 600, SCALE, True)
    assert choose_box(801, 600, SCALE) == Box(801, 600, SCALE, False)


def test_geometry() -> None:
    box = Box(320, 240, SCALE, True)
    assert scaled_size(1000, 800, box) == (300, 240)
    assert scaled_size(1000, 100, box) == (320, 32)
    assert scaled_size(100, 50, box) == (100, 50)  # never upscaled
    assert scaled_size(10000, 1, box) == (320, 1)
    crop = Box(96, 96, CROP, True)
    assert crop_region(200, 100, crop) == (50, 0, 150, 100)
    assert crop_region(100, 300, crop) == (0, 100, 100, 200)
    assert cropped_size(crop_region(200, 100, crop), crop) == (96, 96)
    assert cropped_size(crop_region(50, 200, crop), crop) == (50, 50)  # never upscaled
    wide = Box(60, 30, CROP, False)
    assert crop_region(100, 100, wide) == (0, 25, 100, 75)
    assert cropped_size(crop_region(100, 100, wide), wide) == (60, 30)


def _render(tmp_path: Path, data: bytes, box: Box, **kw: object) -> Thumbnail | Original:
    path = tmp_path / "content"
    path.write_bytes(data)
    options: dict[str, object] = {"requested": (box.width, box.height), "animated": False}
    options["max_pixels"] = 10**8
    options.update(kw)
    return render(path, box, **options)  # type: ignore[arg-type]


def test_render(tmp_path: Path) -> None:
    result = _render(tmp_path, png(1000, 800), Box(96, 96, CROP, True))
    assert isinstance(result, Thumbnail)
    assert (result.content_type, result.width, result.height) == ("image/png", 96, 96)
    assert image_info(result.data) == ("PNG", (96, 96), 1)
    result = _render(tmp_path, jpeg(1000, 800), Box(320, 240, SCALE, True))
    assert isinstance(result, Thumbnail) and result.content_type == "image/jpeg"
    assert image_info(result.data)[:2] == ("JPEG", (300, 240))
    # Smaller than asked: the content itself.
    assert _render(tmp_path, png(20, 20), Box(96, 96, CROP, True)) == Original("image/png")
    # Animated, asked animated: frames kept.
    gif = animated_gif(200, 150, frames=5)
    result = _render(tmp_path, gif, Box(96, 96, CROP, True), animated=True)
    assert isinstance(result, Thumbnail) and image_info(result.data)[2] == 5
    result = _render(tmp_path, gif, Box(96, 96, CROP, True), animated=False)
    assert isinstance(result, Thumbnail) and image_info(result.data) == ("PNG", (96, 96), 1)
    # Larger than asked for but animated=false: a still at the GIF's size.
    result = _render(tmp_path, gif, Box(800, 600, SCALE, True), animated=False)
    assert isinstance(result, Thumbnail) and image_info(result.data) == ("PNG", (200, 150), 1)
    assert _render(tmp_path, gif, Box(800, 600, SCALE, True), animated=True) == Original(
        "image/gif"
    )
    with pytest.raises(ImageTooLarge):
        _render(tmp_path, png(200, 200), Box(32, 32, CROP, True), max_pixels=200 * 200 - 1)
    for junk in (b"", b"<svg/>", png()[:60], b"%!PS-Adobe-3.0 EPSF-3.0\n"):
        with pytest.raises(CannotThumbnail):
            _render(tmp_path, junk, Box(32, 32, CROP, True))


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    from PIL import Image

    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    Image.new("RGB", (400, 200), (1, 2, 3)).save(buffer, format="JPEG", exif=exif)
    result = _render(tmp_path, buffer.getvalue(), Box(320, 240, SCALE, True))
    assert isinstance(result, Thumbnail)
    assert (result.width, result.height) == (120, 240)  # displayed as 200 x 400


def test_files(tmp_path: Path) -> None:
    files = MediaFiles(tmp_path)
    path = files.content_path("abcdefghij")
    assert path == tmp_path / "local_content" / "ab" / "cd" / "efghij"
    assert files.thumbnail_path("abcdefghij", 32, 32, CROP, True) == (
        tmp_path / "local_thumbnails" / "ab" / "cd" / "efghij" / "32x32-crop-animated"
    )
    write_file(path, b"one")
    write_file(path, b"two")
    assert path.read_bytes() == b"two"
    assert [p.name for p in path.parent.iterdir()] == ["efghij"]  # no temporary left
    for bad in ("ab/../../x", "..", "a.b.c.d.e", "abc"):
        with pytest.raises(ValueError):
            files.content_path(bad)
