"""What the media endpoints say about content: media ids, content types, the
``Content-Disposition`` of a download and the security headers every response carries.

spec: client-server "Content repository" ("Matrix Content (mxc://) URIs", "Serving
inline content", "Security considerations").
"""

from __future__ import annotations

import re
import secrets
import string
from urllib.parse import quote

# spec: "The media-id segment MUST consist of only alphanumeric (A-Za-z0-9), _ and -".
MEDIA_ID = re.compile(r"[A-Za-z0-9_-]+")
_ID_ALPHABET = string.ascii_letters + string.digits
_ID_LENGTH = 24  # ~143 bits: unguessable (the legacy download endpoints need no token)


def new_media_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


def valid_media_id(media_id: str) -> bool:
    return len(media_id) <= 255 and MEDIA_ID.fullmatch(media_id) is not None


# RFC 9110 §8.3.1: media-type = type "/" subtype parameters.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_CONTENT_TYPE = re.compile(rf"({_TOKEN})/({_TOKEN})[ \t]*(;[ \t\x21-\x7e]*)?")
MAX_CONTENT_TYPE_LENGTH = 255
DEFAULT_CONTENT_TYPE = "application/octet-stream"


def parse_content_type(header: str | None) -> str | None:
    """The Content-Type of an upload as it will be served again, or None when malformed.

    spec: POST /upload "Defaults to application/octet-stream if it is not set".
    """
    if header is None or not header.strip():
        return DEFAULT_CONTENT_TYPE
    value = header.strip()
    if len(value) > MAX_CONTENT_TYPE_LENGTH or _CONTENT_TYPE.fullmatch(value) is None:
        return None
    return value


def media_type(content_type: str | None) -> str:
    """``type/subtype`` of a Content-Type, lowercased, without parameters."""
    if not content_type:
        return DEFAULT_CONTENT_TYPE
    return content_type.split(";", 1)[0].strip().lower()


MAX_FILENAME_LENGTH = 255


def valid_filename(name: str) -> bool:
    """A file name we can put in a header: not too long, no control characters."""
    return 0 < len(name) <= MAX_FILENAME_LENGTH and not any(
        ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in name
    )


# spec: "Serving inline content": the Content-Types servers SHOULD restrict
# `Content-Disposition: inline` to. Everything else (HTML, SVG, JavaScript, PDF, ...) is
# served as an attachment.
INLINE_TYPES = frozenset(
    {
        "text/css",
        "text/plain",
        "text/csv",
        "application/json",
        "application/ld+json",
        "image/jpeg",
        "image/gif",
        "image/png",
        "image/apng",
        "image/webp",
        "image/avif",
        "video/mp4",
        "video/webm",
        "video/ogg",
        "video/quicktime",
        "audio/mp4",
        "audio/webm",
        "audio/aac",
        "audio/mpeg",
        "audio/ogg",
        "audio/wave",
        "audio/wav",
        "audio/x-wav",
        "audio/x-pn-wav",
        "audio/flac",
        "audio/x-flac",
    }
)


def content_disposition(content_type: str | None, filename: str | None) -> str:
    """``inline`` for the types safe to render, else ``attachment``; with the file name
    (RFC 6266 §4.1: a quoted-string when it is printable ASCII, else RFC 8187
    ``filename*=utf-8''...``)."""
    kind = "inline" if media_type(content_type) in INLINE_TYPES else "attachment"
    if not filename:
        return kind
    return f"{kind}; {_filename_param(filename)}"


def _filename_param(name: str) -> str:
    if all(0x20 <= ord(c) < 0x7F for c in name):
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'filename="{escaped}"'
    return "filename*=utf-8''" + quote(name, safe="")


# spec: "When serving content, the server SHOULD provide a Content-Security-Policy
# header" (the recommended policy, plus media-src so audio/video play in a sandbox) and,
# since v1.4, Cross-Origin-Resource-Policy: cross-origin. nosniff: browsers must trust
# the Content-Type we computed the disposition from.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf;"
        " style-src 'unsafe-inline'; media-src 'self'; object-src 'self';"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "cross-origin",
}
