"""Asynchronous uploads: POST /_matrix/media/v1/create, then
PUT /_matrix/media/v3/upload/{serverName}/{mediaId}; downloads wait for the content
(``timeout_ms``) and answer 504 M_NOT_YET_UPLOADED when it does not come.

spec: client-server "Content repository" (v1.7).
"""

from __future__ import annotations

import asyncio
import time

from tests.support.matrix_client import SERVER, Server, User
from tests.support.media_samples import ogg_opus, png

from .media_client import (
    CREATE,
    LEGACY_MEDIA,
    Fetched,
    download,
    download_path,
    fetch,
    send,
    split_mxc,
    thumbnail,
    upload_ok,
)

DAY_MS = 24 * 3600 * 1000


async def create(user: User) -> Fetched:
    return await send(user.http, "POST", CREATE, b"{}", token=user.token,
                      content_type="application/json")  # fmt: skip


async def create_ok(user: User) -> str:
    got = await create(user)
    assert got.status == 200, got
    return str(got.json()["content_uri"])


async def put(
    user: User, uri: str, data: bytes, content_type: str = "image/png", **params: str
) -> Fetched:
    server_name, media_id = split_mxc(uri)
    return await send(
        user.http, "PUT", f"/_matrix/media/v3/upload/{server_name}/{media_id}", data,
        token=user.token, content_type=content_type, params=params or None,
    )  # fmt: skip


async def test_create_then_upload(server: Server, alice: User, bob: User) -> None:
    got = await create(alice)
    assert got.status == 200
    body = got.json()
    assert body["unused_expires_at"] == server.clock.time_ms() + DAY_MS  # 24 h (spec)
    uri = body["content_uri"]
    assert uri.startswith(f"mxc://{SERVER}/")
    # Nothing yet: no waiting asked for, 504 at once.
    for fetched in (
        await download(alice, uri, params={"timeout_ms": "0"}),
        await thumbnail(alice, uri, width=32, height=32, timeout_ms=0),
        await fetch(alice.http, download_path(uri, LEGACY_MEDIA), params={"timeout_ms": "0"}),
    ):
        assert (fetched.status, fetched.errcode) == (504, "M_NOT_YET_UPLOADED")
    # Only the creator may upload to it.
    got = await put(bob, uri, png())
    assert (got.status, got.errcode) == (403, "M_FORBIDDEN")
    # Content that does not match its type is refused; the id stays open.
    got = await put(alice, uri, b"not a png")
    assert (got.status, got.errcode) == (400, "M_INVALID_PARAM")
    got = await put(alice, uri, png(), filename="later.png")
    assert (got.status, got.json()) == (200, {})
    got = await download(alice, uri)
    assert got.status == 200 and got.body == png()
    assert got.headers["Content-Disposition"] == 'inline; filename="later.png"'
    # Once: the second upload cannot overwrite it (by anyone).
    got = await put(alice, uri, ogg_opus(), "audio/ogg")
    assert (got.status, got.errcode) == (409, "M_CANNOT_OVERWRITE_MEDIA")
    assert (await download(alice, uri)).body == png()


async def test_a_waiting_download_gets_the_content(server: Server, alice: User) -> None:
    uri = await create_ok(alice)
    data = ogg_opus()
    started = time.monotonic()
    waiting = asyncio.ensure_future(download(alice, uri, params={"timeout_ms": "10000"}))
    thumb = asyncio.ensure_future(thumbnail(alice, uri, width=10, height=10, timeout_ms=10000))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    got = await put(alice, uri, data, "audio/ogg")
    assert got.status == 200
    fetched = await asyncio.wait_for(waiting, 5)
    assert fetched.status == 200 and fetched.body == data
    # The thumbnail request woke too (and an OGG has no thumbnail).
    thumbed = await asyncio.wait_for(thumb, 5)
    assert (thumbed.status, thumbed.errcode) == (400, "M_UNKNOWN")
    assert time.monotonic() - started < 5, "the waiting download was not woken by the upload"


async def test_a_download_gives_up_after_its_timeout(server: Server, alice: User) -> None:
    uri = await create_ok(alice)
    started = time.monotonic()
    got = await download(alice, uri, params={"timeout_ms": "300"})
    elapsed = time.monotonic() - started
    assert (got.status, got.errcode) == (504, "M_NOT_YET_UPLOADED")
    assert 0.25 < elapsed < 5


async def test_upload_to_errors(server: Server, alice: User) -> None:
    uploaded = await upload_ok(alice, png())
    _, media_id = split_mxc(uploaded)
    # Made by POST /upload: it already has content.
    got = await put(alice, uploaded, png())
    assert (got.status, got.errcode) == (409, "M_CANNOT_OVERWRITE_MEDIA")
    for uri in (
        f"mxc://{SERVER}/NeverCreated123",
        f"mxc://other.example/{media_id}",
        f"mxc://{SERVER}/bad.id",
    ):
        got = await put(alice, uri, png())
        assert (got.status, got.errcode) == (404, "M_NOT_FOUND"), uri
    pending = await create_ok(alice)
    got = await send(alice.http, "PUT", "/_matrix/media/v3/upload/" + pending[6:], png(),
                     content_type="image/png")  # fmt: skip
    assert (got.status, got.errcode) == (401, "M_MISSING_TOKEN")
    got = await send(alice.http, "POST", CREATE, b"{}", content_type="application/json")
    assert (got.status, got.errcode) == (401, "M_MISSING_TOKEN")


async def test_created_ids_expire(server: Server, alice: User) -> None:
    uri = await create_ok(alice)
    server.clock.advance(DAY_MS + 1)
    got = await put(alice, uri, png())
    assert (got.status, got.errcode) == (404, "M_NOT_FOUND")
    got = await download(alice, uri, params={"timeout_ms": "0"})
    assert (got.status, got.errcode) == (404, "M_NOT_FOUND")


async def test_pending_uploads_are_limited(server: Server, alice: User, bob: User) -> None:
    uris = [await create_ok(alice) for _ in range(10)]
    got = await create(alice)
    assert (got.status, got.errcode) == (429, "M_LIMIT_EXCEEDED")
    assert got.json()["retry_after_ms"] == DAY_MS  # when the oldest expires
    await create_ok(bob)  # per user
    # Uploading one frees a place.
    assert (await put(alice, uris[0], png())).status == 200
    await create_ok(alice)
    assert (await create(alice)).status == 429
    # So does expiry.
    server.clock.advance(DAY_MS + 1)
    await create_ok(alice)


async def test_shutdown_answers_waiting_downloads(server: Server, alice: User) -> None:
    uri = await create_ok(alice)
    waiting = asyncio.ensure_future(download(alice, uri, params={"timeout_ms": "60000"}))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    started = time.monotonic()
    assert server.http.server is not None
    await server.http.server.stop()
    got = await asyncio.wait_for(waiting, 5)
    assert (got.status, got.errcode) == (504, "M_NOT_YET_UPLOADED")
    assert time.monotonic() - started < 0.9  # answered, not cut off at the drain timeout
