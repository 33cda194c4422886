"""The federation media body (spec: server-server "Content Repository"): what we build
parses back, bodies as other servers send them parse, and malformed ones are refused."""

from __future__ import annotations

import pytest

from homeserver.media.multipart import MultipartError, boundary_of, build, parse


def test_round_trip_keeps_bytes_type_and_disposition() -> None:
    media = b"\x89PNG\r\n--not a boundary\r\n\x00" * 50
    content_type, body = build(media, "image/png", 'inline; filename="cat.png"')
    metadata, part = parse(content_type, body)
    assert metadata == {}
    assert part.body == media
    assert part.content_type == "image/png"
    assert part.disposition == 'inline; filename="cat.png"'
    assert part.location is None


def test_parses_a_location_part_and_a_quoted_boundary() -> None:
    body = (
        b"--6067d4698f8d40a0a794ea7d7379d53a\r\n"
        b"Content-Type: application/json\r\n\r\n"
        b'{"k": 1}\r\n'
        b"--6067d4698f8d40a0a794ea7d7379d53a\r\n"
        b"Location: https://cdn.example.org/ab/cd\r\n\r\n"
        b"\r\n--6067d4698f8d40a0a794ea7d7379d53a--\r\n"
    )
    metadata, part = parse('multipart/mixed; boundary="6067d4698f8d40a0a794ea7d7379d53a"', body)
    assert metadata == {"k": 1}
    assert part.location == "https://cdn.example.org/ab/cd"


def _two(first_type: str, metadata: bytes, second_header: str) -> bytes:
    return (
        b"--x\r\nContent-Type: " + first_type.encode() + b"\r\n\r\n" + metadata
        + b"\r\n--x\r\n" + second_header.encode() + b"\r\n\r\nz\r\n--x--"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"{}"),
        ("multipart/mixed", b"--x\r\n"),
        ("multipart/mixed; boundary=x", b"no boundary at all"),
        (
            "multipart/mixed; boundary=x",
            b"--x\r\nContent-Type: application/json\r\n\r\n{}\r\n--x--",
        ),
        ("multipart/mixed; boundary=x", _two("text/plain", b"{}", "Content-Type: a/b")),
        ("multipart/mixed; boundary=x", _two("application/json", b"[]", "Content-Type: a/b")),
        ("multipart/mixed; boundary=x", _two("application/json", b"{}", "X-Other: 1")),
        (
            "multipart/mixed; boundary=x",
            b"--x\r\nContent-Type: application/json\r\n\r\n{}\r\n--x\r\nContent-Type: a/b\r\n\r\nz",
        ),
    ],
)
def test_refuses_what_is_not_the_two_part_body(content_type: str, body: bytes) -> None:
    with pytest.raises(MultipartError):
        parse(content_type, body)


def test_boundary_length_limits() -> None:
    assert boundary_of("multipart/mixed; boundary=" + "a" * 70) == "a" * 70
    with pytest.raises(MultipartError):
        boundary_of("multipart/mixed; boundary=" + "a" * 71)
