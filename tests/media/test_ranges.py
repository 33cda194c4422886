"""Byte ranges (RFC 9110 §14) of downloads: the parser, and 206/416 over HTTP."""

from __future__ import annotations

import pytest

from homeserver.media.ranges import ByteRange, Unsatisfiable, parse_range
from tests.http.raw import RawConnection, request
from tests.support.matrix_client import Server, User

from .media_client import download, download_path, upload_ok

SIZE = 100


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", ByteRange(0, 9)),
        ("bytes=10-", ByteRange(10, 99)),
        ("bytes=-5", ByteRange(95, 99)),
        ("bytes=-500", ByteRange(0, 99)),  # a suffix longer than the content: all of it
        ("bytes=90-1000", ByteRange(90, 99)),  # last-pos past the end: up to the end
        ("bytes=99-99", ByteRange(99, 99)),
        ("BYTES=0-0", ByteRange(0, 0)),  # the unit is case-insensitive
        ("bytes= 5-6 ", ByteRange(5, 6)),
        ("bytes=5-6,", ByteRange(5, 6)),  # empty list elements are ignored
        ("bytes=0-9999999999999999999999999", ByteRange(0, 99)),
        # Ignored (the whole content): invalid, another unit, several ranges.
        ("bytes=5-2", None),
        ("bytes=a-b", None),
        ("bytes=1-2-3", None),
        ("bytes=", None),
        ("bytes", None),
        ("items=0-5", None),
        ("bytes=0-1,5-6", None),
        ("bytes=0-1,x", None),
        ("bytes=٣-٤", None),  # digits, but not ASCII ones
    ],
)
def test_parse_range(header: str, expected: ByteRange | None) -> None:
    assert parse_range(header, SIZE) == expected


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=100-", SIZE),
        ("bytes=100-200", SIZE),
        ("bytes=-0", SIZE),
        ("bytes=0-", 0),
        ("bytes=-1", 0),
        ("bytes=200-300,400-", SIZE),
        ("bytes=99999999999999999999999-", SIZE),
    ],
)
def test_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, size)


def test_content_range() -> None:
    assert ByteRange(5, 9).content_range(100) == "bytes 5-9/100"
    assert ByteRange(5, 9).length == 5


async def test_range_requests(server: Server, alice: User) -> None:
    data = bytes(range(256)) * 4  # 1024 bytes
    uri = await upload_ok(alice, data, "application/octet-stream")
    size = len(data)
    for header, (start, end) in [
        ("bytes=0-9", (0, 9)),
        ("bytes=1000-", (1000, 1023)),
        ("bytes=-24", (1000, 1023)),
        ("bytes=512-2000", (512, 1023)),
    ]:
        got = await download(alice, uri, headers={"Range": header})
        assert got.status == 206, header
        assert got.body == data[start : end + 1]
        assert got.headers["Content-Range"] == f"bytes {start}-{end}/{size}"
        assert got.headers["Content-Length"] == str(end - start + 1)
        assert got.headers["Content-Type"] == "application/octet-stream"
    # Unsatisfiable: 416 with the size.
    for header in ("bytes=1024-", "bytes=-0"):
        got = await download(alice, uri, headers={"Range": header})
        assert got.status == 416, header
        assert got.headers["Content-Range"] == f"bytes */{size}"
    # Not understood, or several ranges: the whole content.
    for header in ("bytes=9-1", "lines=1-2", "bytes=0-1,4-5"):
        got = await download(alice, uri, headers={"Range": header})
        assert (got.status, got.body) == (200, data), header
        assert "Content-Range" not in got.headers
    # Validators: ETag, If-Range, If-None-Match.
    whole = await download(alice, uri)
    etag = whole.headers["ETag"]
    assert whole.headers["Accept-Ranges"] == "bytes"
    got = await download(alice, uri, headers={"Range": "bytes=0-3", "If-Range": etag})
    assert (got.status, got.body) == (206, data[:4])
    got = await download(alice, uri, headers={"Range": "bytes=0-3", "If-Range": '"other"'})
    assert (got.status, got.body) == (200, data)
    got = await download(
        alice, uri, headers={"Range": "bytes=0-3", "If-Range": "Wed, 21 Oct 2015 07:28:00 GMT"}
    )
    assert (got.status, got.body) == (200, data)
    got = await download(alice, uri, headers={"If-None-Match": etag})
    assert (got.status, got.body) == (304, b"")
    got = await download(alice, uri, headers={"If-None-Match": '"other", ' + etag})
    assert got.status == 304
    got = await download(alice, uri, headers={"If-None-Match": '"other"'})
    assert got.status == 200
    # HEAD ignores Range (RFC 9110 §14.2: only GET has range semantics).
    got = await download(alice, uri, headers={"Range": "bytes=0-3"}, method="HEAD")
    assert (got.status, got.body, got.headers["Content-Length"]) == (200, b"", str(size))


async def test_large_files_stream_in_chunks(server: Server, alice: User) -> None:
    data = bytes(range(256)) * (4 * 1024 + 3)  # ~1 MiB: several 256 KiB chunks, a tail
    uri = await upload_ok(alice, data, "application/octet-stream")
    got = await download(alice, uri)
    assert got.body == data
    start = 300 * 1024 + 7
    got = await download(alice, uri, headers={"Range": f"bytes={start}-"})
    assert got.status == 206 and got.body == data[start:]


async def test_reads_are_bounded_by_the_chunk_size(
    server: Server, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from homeserver.api.client import media_serving

    reads: list[int] = []
    real_open = media_serving._open

    class Recording:
        def __init__(self, file: object) -> None:
            self.file = file

        def read(self, n: int) -> bytes:
            reads.append(n)
            return self.file.read(n)  # type: ignore[attr-defined,no-any-return]

        def __getattr__(self, name: str) -> object:
            return getattr(self.file, name)

    def recording_open(path):  # type: ignore[no-untyped-def]
        file, size = real_open(path)
        return Recording(file), size

    monkeypatch.setattr(media_serving, "CHUNK", 4096)
    monkeypatch.setattr(media_serving, "_open", recording_open)
    data = bytes(range(256)) * 100  # 25600 bytes
    uri = await upload_ok(alice, data, "application/octet-stream")
    got = await download(alice, uri)
    assert got.body == data
    assert reads == [4096] * 6 + [25600 - 6 * 4096]


async def test_a_failure_mid_body_cuts_the_connection(
    server: Server, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from homeserver.api.client import media_serving

    async def failing_copy(file, start, length, response):  # type: ignore[no-untyped-def]
        await response.write(file.read(10))
        raise OSError("disk on fire")

    data = bytes(range(256)) * 4
    uri = await upload_ok(alice, data, "application/octet-stream")
    monkeypatch.setattr(media_serving, "_copy", failing_copy)
    auth = {"Authorization": f"Bearer {alice.token}"}
    async with await RawConnection.open(server.http.port) as conn:
        await conn.send(request("GET", download_path(uri), headers=auth))
        head = await conn.read_head()
        assert head.status == 200 and head.header("Content-Length") == str(len(data))
        # The connection closes after the partial body: nothing (no error response)
        # follows it, so the client knows the body is incomplete.
        assert await conn.read_until_closed() == data[:10]
    monkeypatch.undo()
    assert (await download(alice, uri)).body == data
