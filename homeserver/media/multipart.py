"""The two-part ``multipart/mixed`` body of federation media downloads.

spec: server-server "Content Repository" (``GET /_matrix/federation/v1/media/download``
and ``/thumbnail``): a boundary per RFC 2046 section 5.1 delimits exactly two parts, the
first ``application/json`` metadata (an empty object today), the second the media's bytes
with their ``Content-Type`` (and ``Content-Disposition``) or a ``Location`` header.
Pure: bytes in, bytes out.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import orjson

CRLF = b"\r\n"


class MultipartError(ValueError):
    """The body is not the two-part multipart/mixed the spec describes."""


@dataclass(frozen=True, slots=True)
class MediaPart:
    """The second part: the media's bytes, or where to fetch them."""

    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def location(self) -> str | None:
        return self.headers.get("location")

    @property
    def disposition(self) -> str | None:
        return self.headers.get("content-disposition")


def build(media: bytes, content_type: str, disposition: str | None) -> tuple[str, bytes]:
    """``(Content-Type header, body)`` of a download answer carrying ``media``."""
    boundary = secrets.token_hex(16)
    while boundary.encode() in media:  # pragma: no cover - 2**-128
        boundary = secrets.token_hex(16)
    marker = b"--" + boundary.encode()
    second = [b"Content-Type: " + content_type.encode("latin-1")]
    if disposition is not None:
        second.append(b"Content-Disposition: " + disposition.encode("latin-1"))
    body = CRLF.join(
        [
            marker,
            b"Content-Type: application/json",
            b"",
            b"{}",
            marker,
            *second,
            b"",
            media,
            marker + b"--",
            b"",
        ]
    )
    return f"multipart/mixed; boundary={boundary}", body


def boundary_of(content_type: str) -> str:
    """The ``boundary`` parameter of a ``multipart/mixed`` content type."""
    kind, _, params = content_type.partition(";")
    if kind.strip().lower() != "multipart/mixed":
        raise MultipartError(f"not multipart/mixed: {content_type!r}")
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "boundary":
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            if 1 <= len(value) <= 70:  # RFC 2046: 1 to 70 characters
                return value
    raise MultipartError("multipart/mixed without a usable boundary")


def _headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.split(CRLF):
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            raise MultipartError(f"bad part header line {line[:60]!r}")
        headers[name.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
    return headers


def parse(content_type: str, body: bytes) -> tuple[dict[str, Any], MediaPart]:
    """The metadata and the media part of a download answer."""
    marker = b"--" + boundary_of(content_type).encode("latin-1")
    start = body.find(marker)
    if start < 0:
        raise MultipartError("no boundary in the body")
    parts: list[bytes] = []
    position = start + len(marker)
    while True:
        if body[position : position + 2] == b"--":
            break  # the closing delimiter
        if body[position : position + 2] != CRLF:
            raise MultipartError("a boundary not followed by CRLF")
        position += 2
        end = body.find(CRLF + marker, position)
        if end < 0:
            raise MultipartError("a part without a closing boundary")
        parts.append(body[position:end])
        position = end + 2 + len(marker)
    if len(parts) != 2:
        raise MultipartError(f"{len(parts)} parts, not 2")
    split = [part.partition(CRLF + CRLF) for part in parts]
    for head, sep, _ in split:
        if not sep and head:
            raise MultipartError("a part without the blank line after its headers")
    first_headers = _headers(split[0][0])
    if first_headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise MultipartError("the first part is not application/json")
    try:
        metadata = orjson.loads(split[0][2] or b"{}")
    except orjson.JSONDecodeError as exc:
        raise MultipartError(f"the metadata is not JSON: {exc}") from None
    if not isinstance(metadata, dict):
        raise MultipartError("the metadata is not a JSON object")
    media = MediaPart(_headers(split[1][0]), split[1][2])
    if media.location is None and media.content_type is None:
        raise MultipartError("the media part has neither Content-Type nor Location")
    return metadata, media
