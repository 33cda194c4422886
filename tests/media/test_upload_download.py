"""Uploading and downloading media over HTTP, on both databases.

spec: client-server "Content repository": POST /_matrix/media/v3/upload,
GET /_matrix/client/v1/media/download/{serverName}/{mediaId}[/{fileName}], the
deprecated /_matrix/media/v3/download, /config, /preview_url; the headers content is
served with ("Serving inline content", Content-Security-Policy, ...).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from homeserver.api.client.media import MEDIA_KEY
from homeserver.appkeys import STORE_KEY
from homeserver.storage.database import Txn
from tests.support.matrix_client import SERVER, Server, User
from tests.support.media_samples import animated_gif, image_info, jpeg, ogg_opus, png
from tests.support.server_fixtures import MakeServer

from .media_client import (
    CLIENT_MEDIA,
    LEGACY_MEDIA,
    download,
    download_path,
    fetch,
    send,
    split_mxc,
    upload,
    upload_ok,
)

CSP = (
    "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf;"
    " style-src 'unsafe-inline'; media-src 'self'; object-src 'self';"
)


async def media_rows(server: Server) -> int:
    def count(txn: Txn) -> int:
        return int(txn.fetchval("SELECT COUNT(*) FROM local_media"))

    return int(await server.app[STORE_KEY].db.read(count))


def stored_files(server: Server) -> list[Path]:
    root = server.app[MEDIA_KEY].files.root / "local_content"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def assert_served_safely(headers: Mapping[str, str]) -> None:
    assert headers["Content-Security-Policy"] == CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert headers["Access-Control-Allow-Origin"] == "*"


async def test_round_trips_are_byte_exact(server: Server, alice: User, bob: User) -> None:
    samples = [
        (png(), "image/png", "red.png"),
        (animated_gif(), "image/gif", "anim.gif"),
        (ogg_opus(), "audio/ogg", "voice.ogg"),
        (jpeg(), "image/jpeg", None),
    ]
    for data, content_type, filename in samples:
        uri = await upload_ok(alice, data, content_type, filename=filename)
        server_name, media_id = split_mxc(uri)
        assert server_name == SERVER and len(media_id) >= 16
        got = await download(bob, uri)  # any user may download
        assert got.status == 200, got
        assert got.body == data
        assert got.headers["Content-Type"] == content_type
        assert got.headers["Content-Length"] == str(len(data))
        assert got.headers["Accept-Ranges"] == "bytes"
        expected = "inline" if filename is None else f'inline; filename="{filename}"'
        assert got.headers["Content-Disposition"] == expected
        assert_served_safely(got.headers)
    # The animated GIF came back animated.
    assert image_info(animated_gif())[2] == 3
    # Each upload has its own id.
    ids = {split_mxc(await upload_ok(alice, png()))[1] for _ in range(3)}
    assert len(ids) == 3


async def test_dispositions_and_file_names(server: Server, alice: User) -> None:
    # spec: "Serving inline content": HTML, SVG, JavaScript are attachments.
    for content_type, disposition in [
        ("text/html", "attachment"),
        ("image/svg+xml", "attachment"),
        ("application/javascript", "attachment"),
        ("application/pdf", "attachment"),
        ("text/plain; charset=utf-8", "inline"),
        ("application/octet-stream", "attachment"),
    ]:
        uri = await upload_ok(alice, b"<script>alert(1)</script>", content_type)
        got = await download(alice, uri)
        assert got.status == 200
        assert got.headers["Content-Type"] == content_type  # as uploaded
        assert got.headers["Content-Disposition"] == disposition, content_type
        assert_served_safely(got.headers)

    uri = await upload_ok(alice, png(), "image/png", filename='my "best" \\ pic.png')
    got = await download(alice, uri)
    assert got.headers["Content-Disposition"] == 'inline; filename="my \\"best\\" \\\\ pic.png"'
    # Not ASCII: RFC 6266 / RFC 8187 filename*.
    uri = await upload_ok(alice, png(), "image/png", filename="château ☃.png")
    got = await download(alice, uri)
    assert got.headers["Content-Disposition"] == (
        "inline; filename*=utf-8''ch%C3%A2teau%20%E2%98%83.png"
    )
    # The file name in the path replaces the uploaded one.
    got = await fetch(alice.http, download_path(uri, filename="other name.png"), token=alice.token)
    assert got.status == 200 and got.body == png()
    assert got.headers["Content-Disposition"] == 'inline; filename="other name.png"'
    # An upload without a Content-Type is application/octet-stream (spec v1.12).
    uri = await upload_ok(alice, b"\x00\x01bytes", None)
    got = await download(alice, uri)
    assert got.headers["Content-Type"] == "application/octet-stream"
    assert got.headers["Content-Disposition"] == "attachment"
    # An empty upload is content too.
    uri = await upload_ok(alice, b"", "application/octet-stream")
    got = await download(alice, uri)
    assert (got.status, got.body, got.headers["Content-Length"]) == (200, b"", "0")


async def test_head_answers_the_headers_only(server: Server, alice: User) -> None:
    data = png()
    uri = await upload_ok(alice, data)
    got = await fetch(alice.http, download_path(uri), token=alice.token, method="HEAD")
    assert got.status == 200 and got.body == b""
    assert got.headers["Content-Length"] == str(len(data))
    assert got.headers["Content-Type"] == "image/png"


async def test_upload_errors_change_nothing(server: Server, alice: User) -> None:
    cases = [
        # (body, claimed type, filename, status, errcode)
        (b"not a png at all", "image/png", None, 400, "M_INVALID_PARAM"),
        (png()[:40], "image/png", None, 400, "M_INVALID_PARAM"),  # truncated
        (jpeg(), "image/png", None, 400, "M_INVALID_PARAM"),  # another format
        (png(), "image/gif", None, 400, "M_INVALID_PARAM"),
        (b"RIFF\x00\x00\x00\x00WEBPjunk", "image/webp", None, 400, "M_INVALID_PARAM"),
        (png(), "audio/ogg", None, 400, "M_INVALID_PARAM"),
        (b"plain text", "audio/mpeg", None, 400, "M_INVALID_PARAM"),
        (ogg_opus(), "video/mp4", None, 400, "M_INVALID_PARAM"),
        (b"", "image/png", None, 400, "M_INVALID_PARAM"),
        (png(), "not a media type", None, 400, "M_INVALID_PARAM"),
        (png(), "image/png", "bad\nname.png", 400, "M_INVALID_PARAM"),
        (png(), "image/png", "x" * 256, 400, "M_INVALID_PARAM"),
    ]
    for data, content_type, filename, status, errcode in cases:
        got = await upload(alice, data, content_type, filename=filename)
        assert (got.status, got.errcode) == (status, errcode), (content_type, got)
    got = await upload(alice, png(), "image/png", auth=False)
    assert (got.status, got.errcode) == (401, "M_MISSING_TOKEN")
    got = await send(alice.http, "POST", "/_matrix/media/v3/upload", png(), token="nope")
    assert (got.status, got.errcode) == (401, "M_UNKNOWN_TOKEN")
    assert await media_rows(server) == 0
    assert stored_files(server) == []
    # The same bodies under their own type are fine.
    await upload_ok(alice, ogg_opus(), "audio/ogg")
    await upload_ok(alice, ogg_opus(), "audio/ogg; codecs=opus")
    await upload_ok(alice, jpeg(), "image/jpeg")
    assert await media_rows(server) == 3


async def test_audio_and_video_signatures(server: Server, alice: User) -> None:
    ok = [
        (b"ID3\x04\x00" + b"\x00" * 20, "audio/mpeg"),
        (b"\xff\xfb\x90\x00" + b"\x00" * 20, "audio/mpeg"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 20, "audio/wav"),
        (b"fLaC\x00\x00\x00\x22" + b"\x00" * 20, "audio/flac"),
        (b"\x00\x00\x00\x20ftypM4A " + b"\x00" * 20, "audio/mp4"),
        (b"\x00\x00\x00\x20ftypisom" + b"\x00" * 20, "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  " + b"\x00" * 20, "video/quicktime"),
        (b"\x1a\x45\xdf\xa3" + b"\x00" * 20, "video/webm"),
        (ogg_opus(), "video/ogg"),
        (b"anything at all", "audio/x-unknown-codec"),  # no rule: as claimed
    ]
    for data, content_type in ok:
        uri = await upload_ok(alice, data, content_type)
        assert (await download(alice, uri)).body == data
    for data, content_type in [
        (b"\x1a\x45\xdf\xa3" + b"\x00" * 20, "video/mp4"),
        (b"OggS", "audio/flac"),
        (b"ID3", "video/webm"),
    ]:
        got = await upload(alice, data, content_type)
        assert (got.status, got.errcode) == (400, "M_INVALID_PARAM"), content_type


async def test_size_limits(make_server: MakeServer) -> None:
    server = await make_server(max_upload_size=2 * 1024 * 1024, max_image_pixels=1000)
    alice = await server.register("alice")
    # Larger than the JSON body limit (1 MiB): the upload routes take up to max_upload_size.
    big = bytes(range(256)) * (6 * 1024)  # 1.5 MiB
    uri = await upload_ok(alice, big, "application/octet-stream")
    assert (await download(alice, uri)).body == big

    # Streamed in chunks (no Content-Length) too.
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(6):
            yield big[: 256 * 1024]
            await asyncio.sleep(0)

    uri = await upload_ok(alice, chunks(), "application/octet-stream")
    assert (await download(alice, uri)).body == big[: 256 * 1024] * 6

    # Over the limit: 413 M_TOO_LARGE, declared or streamed.
    got = await upload(alice, b"x" * (2 * 1024 * 1024 + 1), "application/octet-stream")
    assert (got.status, got.errcode) == (413, "M_TOO_LARGE")

    async def too_much() -> AsyncIterator[bytes]:
        for _ in range(12):
            yield b"y" * (256 * 1024)

    got = await upload(alice, too_much(), "application/octet-stream")
    assert (got.status, got.errcode) == (413, "M_TOO_LARGE")
    # Images over max_image_pixels (64 x 48 > 1000).
    got = await upload(alice, png(64, 48), "image/png")
    assert (got.status, got.errcode) == (413, "M_TOO_LARGE")
    await upload_ok(alice, png(30, 30), "image/png")
    # JSON endpoints keep their own limit.
    got = await send(
        alice.http,
        "POST",
        "/_matrix/client/v3/createRoom",
        b"{" + b" " * (1024 * 1024 + 10) + b"}",
        token=alice.token,
        content_type="application/json",
    )
    assert (got.status, got.errcode) == (413, "M_TOO_LARGE")
    # The advertised limit.
    got = await fetch(alice.http, CLIENT_MEDIA + "/config", token=alice.token)
    assert (got.status, got.json()) == (200, {"m.upload.size": 2 * 1024 * 1024})


async def test_download_errors(server: Server, alice: User) -> None:
    uri = await upload_ok(alice, png())
    _, media_id = split_mxc(uri)
    cases = [
        (f"{CLIENT_MEDIA}/download/{SERVER}/NoSuchMedia123", {}, 404, "M_NOT_FOUND"),
        (f"{CLIENT_MEDIA}/download/{SERVER}/bad.id", {}, 404, "M_NOT_FOUND"),
        (f"{CLIENT_MEDIA}/download/{SERVER}/..%2F..%2Fetc", {}, 404, "M_NOT_FOUND"),
        # Remote media of a server that cannot be reached: 502; never asked for with
        # allow_remote=false (tests/federation/test_media_federation.py fetches for real).
        (f"{CLIENT_MEDIA}/download/other.example/{media_id}", {}, 502, "M_UNKNOWN"),
        (f"{LEGACY_MEDIA}/download/other.example/{media_id}", {}, 502, "M_UNKNOWN"),
        (
            f"{LEGACY_MEDIA}/download/other.example/{media_id}",
            {"allow_remote": "false"},
            404,
            "M_NOT_FOUND",
        ),
        (f"{CLIENT_MEDIA}/download/{SERVER}/{media_id}", {"timeout_ms": "soon"}, 400,
         "M_INVALID_PARAM"),
        (f"{CLIENT_MEDIA}/download/{SERVER}/{media_id}/bad%0Aname", {}, 400, "M_INVALID_PARAM"),
    ]  # fmt: skip
    for path, params, status, errcode in cases:
        got = await fetch(alice.http, path, token=alice.token, params=params)
        assert (got.status, got.errcode) == (status, errcode), path
    # The authenticated endpoints need a token.
    got = await fetch(alice.http, download_path(uri))
    assert (got.status, got.errcode) == (401, "M_MISSING_TOKEN")
    got = await fetch(alice.http, download_path(uri), token="bogus")
    assert (got.status, got.errcode) == (401, "M_UNKNOWN_TOKEN")


async def test_legacy_endpoints(server: Server, alice: User) -> None:
    data = png()
    uri = await upload_ok(alice, data, "image/png", filename="a.png")
    # Unauthenticated downloads of local media still work (no freeze, as Synapse).
    for prefix in (LEGACY_MEDIA, "/_matrix/media/r0"):
        got = await fetch(alice.http, download_path(uri, prefix))
        assert got.status == 200 and got.body == data
        assert got.headers["Content-Disposition"] == 'inline; filename="a.png"'
        assert_served_safely(got.headers)
        got = await fetch(alice.http, download_path(uri, prefix, filename="b.png"))
        assert got.headers["Content-Disposition"] == 'inline; filename="b.png"'
        got = await fetch(alice.http, download_path(uri, prefix), params={"allow_remote": "false"})
        assert got.status == 200
    # The r0 upload path of older clients.
    got = await send(
        alice.http, "POST", "/_matrix/media/r0/upload", data, token=alice.token,
        content_type="image/png",
    )  # fmt: skip
    assert got.status == 200 and got.json()["content_uri"].startswith(f"mxc://{SERVER}/")
    # The legacy config needs a token, as its authenticated successor.
    got = await fetch(alice.http, LEGACY_MEDIA + "/config")
    assert (got.status, got.errcode) == (401, "M_MISSING_TOKEN")
    got = await fetch(alice.http, LEGACY_MEDIA + "/config", token=alice.token)
    assert got.json() == {"m.upload.size": 50 * 1024 * 1024}


async def test_config_and_preview_url(server: Server, alice: User) -> None:
    got = await fetch(alice.http, CLIENT_MEDIA + "/config", token=alice.token)
    assert (got.status, got.json()) == (200, {"m.upload.size": 50 * 1024 * 1024})
    got = await fetch(alice.http, CLIENT_MEDIA + "/config")
    assert (got.status, got.errcode) == (401, "M_MISSING_TOKEN")
    # URL previews are not offered.
    for prefix in (CLIENT_MEDIA, LEGACY_MEDIA):
        got = await fetch(
            alice.http, prefix + "/preview_url", token=alice.token,
            params={"url": "https://matrix.org"},
        )  # fmt: skip
        assert (got.status, got.errcode) == (404, "M_NOT_FOUND")
        got = await fetch(alice.http, prefix + "/preview_url", token=alice.token)
        assert (got.status, got.errcode) == (400, "M_MISSING_PARAM")
        got = await fetch(alice.http, prefix + "/preview_url", params={"url": "https://a.b"})
        assert (got.status, got.errcode) == (401, "M_MISSING_TOKEN")


async def test_files_on_disk_and_rows(server: Server, alice: User) -> None:
    data = ogg_opus()
    uri = await upload_ok(alice, data, "audio/ogg", filename="v.ogg")
    _, media_id = split_mxc(uri)
    files = stored_files(server)
    assert len(files) == 1 and files[0].read_bytes() == data
    # Sharded by id: local_content/ab/cd/<rest>.
    assert files[0].relative_to(server.app[MEDIA_KEY].files.root).parts == (
        "local_content", media_id[:2], media_id[2:4], media_id[4:]
    )  # fmt: skip
    record = await server.app[STORE_KEY].media.get(media_id)
    assert record is not None
    assert (record.user_id, record.content_type, record.size, record.filename) == (
        alice.user_id, "audio/ogg", len(data), "v.ogg"
    )  # fmt: skip
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    assert record.upload_ts == server.clock.time_ms()
